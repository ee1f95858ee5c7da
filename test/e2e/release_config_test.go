package e2e

import (
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The .deb and .rpm install a bash completion that only the bash-completion
// package loads: they recommend it.
func TestPackagesRecommendBashCompletion(t *testing.T) {
	b, err := os.ReadFile("../../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Nfpms []struct {
			ID         string   `yaml:"id"`
			Recommends []string `yaml:"recommends"`
			Contents   []struct {
				Dst string `yaml:"dst"`
			} `yaml:"contents"`
		} `yaml:"nfpms"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Nfpms) == 0 {
		t.Fatal(".goreleaser.yaml has no nfpms")
	}
	for _, n := range cfg.Nfpms {
		installs := false
		for _, c := range n.Contents {
			installs = installs || c.Dst == "/usr/share/bash-completion/completions/linectl"
		}
		if !installs {
			t.Errorf("nfpm %s does not install the bash completion", n.ID)
		}
		if !slices.Contains(n.Recommends, "bash-completion") {
			t.Errorf("nfpm %s does not recommend bash-completion (recommends %v)", n.ID, n.Recommends)
		}
	}
}
