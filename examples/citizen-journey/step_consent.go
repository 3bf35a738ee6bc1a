package main

func giveConsent(j *journey) error {
	return errNotBuilt
}
