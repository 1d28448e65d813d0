// Command ociimage writes a container image of static binaries as an image
// tarball (docker save format) that `ctr images import` and `docker load`
// read, without a Docker engine or a registry. `make images-local`
// (platform/kube/images.sh) packs each service's binaries with it, built the
// way services/Dockerfile builds them, and imports the result into the local
// node's containerd.
//
// The image holds the binaries in /usr/local/bin, the entrypoint link
// services/Dockerfile makes, an empty /tmp (mode 1777) and the Dockerfile's
// user, labels and port. It has no base image: the workers are static and
// need neither libc nor a shell.
//
//	ociimage -name streamforge.local/loader-producer:dev -out img.tar \
//	  -bin-dir out/loader-producer -entrypoint loader-producer -user 65532:65532
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// binPath is where services/Dockerfile copies a service's commands.
const binPath = "/usr/local/bin"

type labels map[string]string

func (l labels) String() string { return fmt.Sprint(map[string]string(l)) }

func (l labels) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("label %q: want key=value", s)
	}
	l[k] = v
	return nil
}

type options struct {
	name, out, binDir, entrypoint, user, port string
	labels                                    labels
}

func main() {
	o := options{labels: labels{}}
	flag.StringVar(&o.name, "name", "", "image reference, e.g. streamforge.local/queue-manager:dev")
	flag.StringVar(&o.out, "out", "", "image tarball to write")
	flag.StringVar(&o.binDir, "bin-dir", "", "directory whose files go to "+binPath)
	flag.StringVar(&o.entrypoint, "entrypoint", "", "command in "+binPath+" the image runs (linked as service-entrypoint)")
	flag.StringVar(&o.user, "user", "65532:65532", "user:group the image runs as")
	flag.StringVar(&o.port, "port", "", "TCP port the image exposes (none when empty)")
	flag.Var(o.labels, "label", "image label key=value (repeatable)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	switch {
	case o.name == "" || o.out == "" || o.binDir == "" || o.entrypoint == "":
		return errors.New("-name, -out, -bin-dir and -entrypoint are required")
	case strings.Contains(o.entrypoint, "/"):
		return fmt.Errorf("-entrypoint %q: give the command's name in %s, not a path", o.entrypoint, binPath)
	}
	ref, err := name.NewTag(o.name)
	if err != nil {
		return fmt.Errorf("parse -name: %w", err)
	}
	layer, err := binLayer(o.binDir, o.entrypoint)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return fmt.Errorf("add layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Config.Entrypoint = []string{path.Join(binPath, "service-entrypoint")}
	cfg.Config.User = o.user
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cfg.Config.Labels = o.labels
	if o.port != "" {
		cfg.Config.ExposedPorts = map[string]struct{}{o.port + "/tcp": {}}
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return fmt.Errorf("set config: %w", err)
	}
	if err := tarball.WriteToFile(o.out, ref, img); err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	return nil
}

// binLayer is one layer with every regular file of dir in binPath, the
// service-entrypoint link to entrypoint and /tmp. Owners are root and
// times the epoch, so the same binaries give the same layer.
func binLayer(dir, entrypoint string) (v1.Layer, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read -bin-dir: %w", err)
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			files = append(files, e.Name())
		}
	}
	sort.Strings(files)
	found := false
	for _, f := range files {
		found = found || f == entrypoint
	}
	if !found {
		return nil, fmt.Errorf("-entrypoint %q: no such file in %s", entrypoint, dir)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0).UTC()
	for _, d := range []string{"tmp/", "usr/", "usr/local/", "usr/local/bin/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, fmt.Errorf("read binary: %w", err)
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: "usr/local/bin/" + f, Mode: 0o755, Size: int64(len(b)), ModTime: epoch}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	link := &tar.Header{Typeflag: tar.TypeSymlink, Name: "usr/local/bin/service-entrypoint", Linkname: entrypoint, Mode: 0o777, ModTime: epoch}
	if err := tw.WriteHeader(link); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		return nil, fmt.Errorf("make layer: %w", err)
	}
	return layer, nil
}
