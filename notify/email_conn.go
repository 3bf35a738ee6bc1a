package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"sync"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// smtpMaxConnAge is how long one connection is reused at most, whatever its traffic: a
// server that counts or rate-limits per connection sees a new one now and then, as Postfix's
// own client does (smtp_connection_reuse_time_limit, 300 s).
const smtpMaxConnAge = 5 * time.Minute

// smtpQuitWait bounds the QUIT that closes an idle connection, which no delivery waits for.
const smtpQuitWait = 2 * time.Second

// smtpConn is one open, authenticated SMTP session, used by one delivery at a time.
type smtpConn struct {
	raw    net.Conn
	capped *cappedConn
	c      *smtp.Client
	opened time.Time

	// Guarded by the pool's mutex while the connection is idle.
	idleSince time.Time
	timer     *time.Timer
}

// bind makes ctx bound the connection's use, its deadline and its end (net/smtp takes no
// context), and gives the delivery the whole reply budget. unbind undoes it and reports
// whether the connection is still usable: false once ctx ended the dialogue.
func (sc *smtpConn) bind(ctx context.Context) (unbind func() bool) {
	dl, _ := ctx.Deadline()
	_ = sc.raw.SetDeadline(dl)
	sc.capped.left = limits.MaxNotifySMTPReplies
	stop := context.AfterFunc(ctx, func() { _ = sc.raw.SetDeadline(time.Unix(1, 0)) })
	return func() bool {
		if !stop() {
			return false
		}
		return sc.raw.SetDeadline(time.Time{}) == nil
	}
}

// quit ends the session politely, within smtpQuitWait, and closes the connection.
func (sc *smtpConn) quit() {
	_ = sc.raw.SetDeadline(time.Now().Add(smtpQuitWait))
	sc.capped.left = limits.MaxNotifySMTPReplies
	_ = sc.c.Quit()
	_ = sc.c.Close()
}

// close drops the connection without a word: it failed, or may be half-way through a reply.
func (sc *smtpConn) close() { _ = sc.c.Close() }

// smtpPool holds a channel's idle connections, the most recently used last. A connection is
// in idle exactly while it is idle: taking it and its timer's expiry both remove it under
// mu, so only one of them gets it.
type smtpPool struct {
	max     int // 0: no reuse
	timeout time.Duration

	mu   sync.Mutex
	idle []*smtpConn
}

// take returns the most recently used idle connection, or nil.
func (p *smtpPool) take() *smtpConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n := len(p.idle); n > 0; n = len(p.idle) {
		sc := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		sc.timer.Stop()
		if time.Since(sc.idleSince) < p.timeout {
			return sc
		}
		// Its timer is late: the server has likely closed it already.
		sc.close()
	}
	return nil
}

// put keeps a healthy connection for the next delivery, or closes it when the pool is full
// or the connection old.
func (p *smtpPool) put(sc *smtpConn) {
	p.mu.Lock()
	if len(p.idle) >= p.max || time.Since(sc.opened) >= smtpMaxConnAge {
		p.mu.Unlock()
		sc.quit()
		return
	}
	sc.idleSince = time.Now()
	sc.timer = time.AfterFunc(p.timeout, func() { p.expire(sc) })
	p.idle = append(p.idle, sc)
	p.mu.Unlock()
}

// expire closes sc if it is still idle.
func (p *smtpPool) expire(sc *smtpConn) {
	p.mu.Lock()
	found := false
	for i, c := range p.idle {
		if c == sc {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			found = true
			break
		}
	}
	p.mu.Unlock()
	if found {
		sc.quit()
	}
}

// closeIdle closes every idle connection.
func (p *smtpPool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	for _, sc := range idle {
		sc.timer.Stop()
	}
	p.mu.Unlock()
	for _, sc := range idle {
		sc.quit()
	}
}

// send delivers msg to one recipient: on an idle connection if one is alive, otherwise on
// a fresh one. A reused connection that turns out closed by the server is dropped and the
// message tried on the next; only a failure on a fresh connection, or a reply to this
// message, is the delivery's.
func (e *Email) send(ctx context.Context, to string, msg []byte) error {
	needUTF8 := !isASCII(to)
	for sc := e.pool.take(); sc != nil; sc = e.pool.take() {
		unbind := sc.bind(ctx)
		// RSET both ends what the last delivery left (a refused recipient's transaction)
		// and proves the connection alive (RFC 5321 §4.1.1.5).
		if err := sc.c.Reset(); err != nil {
			unbind()
			sc.close()
			if ctx.Err() != nil {
				return err
			}
			continue
		}
		healthy, stale, err := e.transact(sc, to, msg, needUTF8)
		if stale && ctx.Err() == nil {
			unbind()
			sc.close()
			continue
		}
		e.release(sc, unbind, err, healthy)
		return err
	}
	sc, err := e.dial(ctx)
	if err != nil {
		return err
	}
	unbind := sc.bind(ctx)
	healthy, _, err := e.transact(sc, to, msg, needUTF8)
	e.release(sc, unbind, err, healthy)
	return err
}

// release ends a delivery's use of sc: back to the pool when it is healthy and ctx did not
// touch it, closed politely when it is healthy but not kept, dropped otherwise.
func (e *Email) release(sc *smtpConn, unbind func() bool, err error, healthy bool) {
	switch {
	case !healthy:
		unbind()
		sc.close()
	case e.pool.max == 0:
		// The message is accepted, or refused by a reply; a failed QUIT changes nothing.
		_ = sc.c.Quit()
		unbind()
		sc.close()
	case unbind():
		e.pool.put(sc)
	default:
		sc.close()
	}
}

// transact runs one mail transaction on sc. healthy says the session is in a known state
// (the transaction ended, or a 4xx or 5xx reply other than 421 refused a step), stale that
// the first command found the connection gone, before the server took anything of this
// message.
func (e *Email) transact(sc *smtpConn, to string, msg []byte, needUTF8 bool) (healthy, stale bool, err error) {
	if needUTF8 {
		if ok, _ := sc.c.Extension("SMTPUTF8"); !ok {
			return true, false, &Error{Check: "smtputf8", Reason: "the server does not offer SMTPUTF8 (RFC 6531): it cannot take a non-ASCII address",
				Err: ErrPermanent}
		}
	}
	if err := mailFrom(sc.c, e.from.Address, needUTF8); err != nil {
		var te *textproto.Error
		gone := !errors.As(err, &te) || te.Code == 421
		return replyOnly(err), gone, smtpFailure("mail", err)
	}
	if err := sc.c.Rcpt(to); err != nil {
		return replyOnly(err), false, smtpFailure("rcpt", err)
	}
	w, err := sc.c.Data()
	if err != nil {
		return replyOnly(err), false, smtpFailure("data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return false, false, smtpFailure("data", err)
	}
	if err := w.Close(); err != nil {
		return replyOnly(err), false, smtpFailure("data", err)
	}
	return true, false, nil
}

// replyOnly reports whether err is only the server's refusal, which leaves the session
// usable: a 4xx or 5xx reply, but not 421, with which the server closes it (RFC 5321
// §3.8).
func replyOnly(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 400 && te.Code <= 599 && te.Code != 421
}

// mailFrom sends MAIL FROM. net/smtp's Client.Mail adds SMTPUTF8 whenever the server
// offers it; this asks for it only for a message that needs it (RFC 6531 §3.4), so that a
// relay further on that lacks SMTPUTF8 is not made to bounce an ASCII message. BODY=8BITMIME
// goes as Client.Mail sends it. Client.Text is net/smtp's documented way to add extensions.
func mailFrom(c *smtp.Client, from string, needUTF8 bool) error {
	cmd := "MAIL FROM:<" + from + ">"
	if ok, _ := c.Extension("8BITMIME"); ok {
		cmd += " BODY=8BITMIME"
	}
	if needUTF8 {
		cmd += " SMTPUTF8"
	}
	id, err := c.Text.Cmd("%s", cmd)
	if err != nil {
		return err
	}
	c.Text.StartResponse(id)
	defer c.Text.EndResponse(id)
	_, _, err = c.Text.ReadResponse(250)
	return err
}

// dial opens a connection and brings it to where a mail transaction can start: TLS,
// EHLO, STARTTLS, AUTH.
func (e *Email) dial(ctx context.Context) (*smtpConn, error) {
	var dialer net.Dialer
	raw, err := dialer.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp: connect: %w", err)
	}
	sc := &smtpConn{raw: raw, capped: &cappedConn{Conn: raw}, opened: time.Now()}
	unbind := sc.bind(ctx)
	if err := e.setUp(ctx, sc); err != nil {
		unbind()
		if sc.c != nil {
			_ = sc.c.Close()
		} else {
			_ = raw.Close()
		}
		return nil, err
	}
	if !unbind() {
		sc.close()
		return nil, fmt.Errorf("notify: smtp: %w", ctx.Err())
	}
	return sc, nil
}

func (e *Email) setUp(ctx context.Context, sc *smtpConn) error {
	var conn net.Conn = sc.capped
	if e.implicit {
		tc := tls.Client(conn, e.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("notify: smtp: tls: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		return smtpFailure("greeting", err)
	}
	sc.c = c
	if err := c.Hello(e.hello); err != nil {
		return smtpFailure("ehlo", err)
	}
	if !e.implicit {
		ok, _ := c.Extension("STARTTLS")
		switch {
		case ok:
			if err := c.StartTLS(e.tls); err != nil {
				return smtpFailure("starttls", err)
			}
		case !e.plaintext:
			return errors.New("notify: smtp: the server does not offer STARTTLS: refusing to send in the clear")
		}
	}
	if e.user != "" {
		if err := c.Auth(smtp.PlainAuth("", e.user, e.password, e.host)); err != nil {
			return smtpFailure("auth", err)
		}
	}
	return nil
}

// cappedConn fails a read once the server has sent more than left bytes since the last
// reset: what one delivery reads is bounded, however long the connection lives.
type cappedConn struct {
	net.Conn
	left int
}

func (c *cappedConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("notify: smtp: the server sent more than %d bytes", limits.MaxNotifySMTPReplies)
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= n
	return n, err
}
