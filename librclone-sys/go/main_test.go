package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestThePackageDocListsEveryFile keeps the list of files in the package
// doc (main.go) and the files of the package the same.
func TestThePackageDocListsEveryFile(t *testing.T) {
	doc, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^//   - ([\w./]+): `).FindAllSubmatch(doc, -1) {
		listed = append(listed, string(m[1]))
	}
	var files []string
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir() && !strings.HasPrefix(name, "."):
			if gos, _ := filepath.Glob(filepath.Join(name, "*.go")); len(gos) > 0 {
				files = append(files, name+"/")
			}
		case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"):
			files = append(files, name)
		}
	}
	slices.Sort(files)
	sortedListed := slices.Sorted(slices.Values(listed))
	if !slices.Equal(sortedListed, files) {
		t.Errorf("the package doc lists %q,\nthe package has %q", sortedListed, files)
	}
}
