package main

import (
	"os"

	"github.com/linectl/linectl/cmd"
)

func main() { os.Exit(cmd.Main()) }
