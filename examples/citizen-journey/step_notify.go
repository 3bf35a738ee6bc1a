package main

func notifyPerson(j *journey) error {
	return errNotBuilt
}
