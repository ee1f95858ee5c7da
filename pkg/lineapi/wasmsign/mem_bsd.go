//go:build darwin || freebsd

package wasmsign

const mapNoReserve = 0

func adviseHuge([]byte) {}
