package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrNotFound reports that a source does not hold the file asked for.
var ErrNotFound = errors.New("not found")

// Source is one place a file may be had from, besides the cache.
type Source interface {
	// Open returns the file's content and its length in bytes (-1: unknown).
	// It returns an error wrapping ErrNotFound when the source lacks the file.
	Open(ctx context.Context) (io.ReadCloser, int64, error)

	// String says where the source looks, for messages.
	String() string
}

// LocalFile returns a Source that reads the file at path.
func LocalFile(path string) Source { return localFile(path) }

type localFile string

func (l localFile) String() string { return string(l) }

func (l localFile) Open(ctx context.Context) (io.ReadCloser, int64, error) {
	f, err := os.Open(string(l))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, 0, fmt.Errorf("not a regular file")
	}
	return f, fi.Size(), nil
}

// Lazy returns a Source whose file path is found by locate on first use (for
// example by asking the go command where a module lives). desc says where it
// looks, for messages. locate runs at most once; its answer is kept.
func Lazy(desc string, locate func(ctx context.Context) (string, error)) Source {
	return &lazySource{desc: desc, locate: locate}
}

type lazySource struct {
	desc   string
	locate func(ctx context.Context) (string, error)

	once sync.Once
	path string
	err  error
}

func (l *lazySource) String() string { return l.desc }

func (l *lazySource) Open(ctx context.Context) (io.ReadCloser, int64, error) {
	l.once.Do(func() { l.path, l.err = l.locate(ctx) })
	if l.err != nil {
		return nil, 0, l.err
	}
	return localFile(l.path).Open(ctx)
}

// URL returns a Source that downloads the file from an http or https address
// with DefaultClient.
func URL(address string) Source { return &urlSource{address: address} }

// URLWith returns a Source that downloads the file from address with client.
func URLWith(client *http.Client, address string) Source {
	return &urlSource{address: address, client: client}
}

// DefaultClient is the HTTP client of URL sources: it gives up on a server that
// does not answer within 30 s, but not on a long transfer.
var DefaultClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
	},
}

type urlSource struct {
	address string
	client  *http.Client
}

func (u *urlSource) String() string { return u.address }

func (u *urlSource) Open(ctx context.Context) (io.ReadCloser, int64, error) {
	client := u.client
	if client == nil {
		client = DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.address, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		_ = resp.Body.Close()
		return nil, 0, fmt.Errorf("%w (HTTP 404)", ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		_ = resp.Body.Close()
		return nil, 0, fmt.Errorf("HTTP %s", resp.Status)
	}
	return resp.Body, resp.ContentLength, nil
}

// folderFile joins a folder and a slash-separated name.
func folderFile(dir, name string) string {
	return filepath.Join(dir, filepath.FromSlash(name))
}
