//go:build !unix

package e2e

// rssHelper: the memory measure needs Unix's rusage (hostile_media_test.go).
func rssHelper() bool { return false }
