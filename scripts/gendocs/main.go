// Command gendocs writes linectl's command reference: Markdown pages
// (-md DIR) and man pages (-man DIR). Used by `make docs` and `make man`.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	md := flag.String("md", "", "write Markdown pages into this directory")
	man := flag.String("man", "", "write man pages into this directory")
	flag.Parse()
	if *md == "" && *man == "" {
		fmt.Fprintln(os.Stderr, "usage: gendocs -md DIR | -man DIR")
		os.Exit(2)
	}
	if *md != "" {
		if err := GenerateMarkdown(*md); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if *man != "" {
		if err := GenerateMan(*man); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
