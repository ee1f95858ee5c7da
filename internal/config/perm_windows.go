//go:build windows

package config

import "io/fs"

const (
	openNonBlock = 0
	openNoFollow = 0
)

// fixDirMode: Windows has no mode bits to fix; the profile directory's ACL applies.
func fixDirMode(string, fs.FileInfo) (string, error) { return "", nil }
