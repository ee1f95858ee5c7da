//go:build darwin || freebsd

package wasmsign

import "syscall"

func anonMap(n uint64) (b, whole []byte, err error) {
	b, err = syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	return b, b, err
}
