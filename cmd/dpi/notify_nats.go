package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsConnectTimeout bounds the dial and handshake with each NATS server named by --nats, and
// the first JetStream request, so that a run given an unreachable server says so instead of
// waiting.
const natsConnectTimeout = 5 * time.Second

// connectJetStream connects to the NATS servers of rawURL and checks that JetStream answers.
// Once connected, the connection reconnects without end: a dispatcher outlives a restart of
// its NATS server. Its errors never repeat a password the URL holds.
func connectJetStream(ctx context.Context, rawURL string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(rawURL, nats.Name("dpi notify run"), nats.Timeout(natsConnectTimeout),
		nats.MaxReconnects(-1), nats.ReconnectWait(time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("--nats: cannot connect to %s: %s", redactNATS(rawURL), redactError(err, rawURL))
	}
	js, err := jetstream.New(nc)
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, natsConnectTimeout)
		defer cancel()
		_, err = js.AccountInfo(ctx)
	}
	if err != nil {
		nc.Close()
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return nil, nil, fmt.Errorf("--nats: the NATS server at %s has no JetStream: start it with -js", redactNATS(rawURL))
		}
		return nil, nil, fmt.Errorf("--nats: JetStream at %s: %s", redactNATS(rawURL), redactError(err, rawURL))
	}
	return nc, js, nil
}

// redactNATS returns the server list of a --nats value with each password or token replaced
// by "xxxxx". A user name alone is how nats.go reads a token, so it is replaced too.
func redactNATS(rawURL string) string {
	servers := strings.Split(rawURL, ",")
	for i, s := range servers {
		u, err := url.Parse(strings.TrimSpace(s))
		switch {
		case err != nil:
			servers[i] = "(a server URL that does not parse)"
		case u.User == nil:
			servers[i] = u.String()
		default:
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			} else {
				u.User = url.User("xxxxx")
			}
			servers[i] = u.String()
		}
	}
	return strings.Join(servers, ",")
}

// redactError returns err's message with the secrets of rawURL's servers removed, in case
// the client repeats a server's URL.
func redactError(err error, rawURL string) string {
	msg := oneLine(err.Error())
	for _, s := range strings.Split(rawURL, ",") {
		u, perr := url.Parse(strings.TrimSpace(s))
		if perr != nil || u.User == nil {
			continue
		}
		secret, ok := u.User.Password()
		if !ok {
			secret = u.User.Username()
		}
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, "xxxxx")
		}
	}
	return msg
}

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
