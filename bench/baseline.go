package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// baselineSystem names system (legacy or graphql) as the -baseline build
// serves it: legacy@7475f45.
func baselineSystem(system, rev string) string { return system + "@" + rev }

// twinOf returns the system of the current build whose workload a traced
// or baseline system runs, and false for the systems that are their own.
func twinOf(system string) (string, bool) {
	if twin, ok := untraced[system]; ok {
		return twin, true
	}
	if base, _, ok := strings.Cut(system, "@"); ok {
		return base, true
	}
	return "", false
}

// isBaseline tells whether system is served by the -baseline build.
func isBaseline(system string) bool { return strings.Contains(system, "@") }

// revision is a commit the -baseline flag names.
type revision struct{ full, short string }

// resolveRevision asks git for the commit rev names.
func resolveRevision(ctx context.Context, rev string) (revision, error) {
	full, err := gitOutput(ctx, "rev-parse", "--verify", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return revision{}, fmt.Errorf("-baseline %s: %w", rev, err)
	}
	short, err := gitOutput(ctx, "rev-parse", "--short", full)
	if err != nil {
		return revision{}, fmt.Errorf("-baseline %s: %w", rev, err)
	}
	return revision{full: full, short: short}, nil
}

func gitOutput(ctx context.Context, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// buildRevision builds the server of rev into out: the commit's tree, as
// `git archive` gives it, is unpacked into a directory under tmp, built
// there with the module cache of this machine, and removed. The working
// tree and the repository are left as they are.
func buildRevision(ctx context.Context, rev revision, tmp, out string) error {
	src := filepath.Join(tmp, "src-"+rev.short)
	if err := os.Mkdir(src, 0o755); err != nil {
		return fmt.Errorf("baseline source: %w", err)
	}
	defer os.RemoveAll(src)
	var stderr bytes.Buffer
	archive := exec.CommandContext(ctx, "git", "archive", "--format=tar", rev.full)
	archive.Stderr = &stderr
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return err
	}
	if err := archive.Start(); err != nil {
		return fmt.Errorf("git archive %s: %w", rev.short, err)
	}
	untarErr := untar(pipe, src)
	if untarErr != nil {
		_, _ = io.Copy(io.Discard, pipe) // let git finish writing
	}
	if err := archive.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %w: %s", rev.short, err, strings.TrimSpace(stderr.String()))
	}
	if untarErr != nil {
		return fmt.Errorf("unpack %s: %w", rev.short, untarErr)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, ".")
	cmd.Dir = src
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build of %s: %w\n%s", rev.short, err, buf.String())
	}
	return nil
}

// untar writes the regular files and directories of a tar stream under
// dir; git archive makes nothing else that a build needs (a symbolic link
// is skipped).
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("%q leaves the directory", h.Name)
		}
		path := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o600)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, tr); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
	}
}
