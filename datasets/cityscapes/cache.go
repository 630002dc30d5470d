package cityscapes

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/dlexp/dlexp/datasets/fetch"
)

// cacheMagic starts every cached split; the last byte is the format version.
const cacheMagic = "DLEXPCS\x01"

// cacheHeader is the JSON header of a cached split.
type cacheHeader struct {
	Split     Split    `json:"split"`
	Frames    []string `json:"frames"`
	N         int      `json:"n"`
	H         int      `json:"h"`
	W         int      `json:"w"`
	HDR       bool     `json:"hdr"`
	Disparity bool     `json:"disparity"`
	Factor    int      `json:"factor"`
	Payload   int64    `json:"payload_bytes"`
}

// cachePath names the cache file of split: a folder keyed by the dataset's
// files (paths, sizes and times of every file read), and a name giving the
// options.
func (d *Dataset) cachePath(split Split, frames []Frame, opt LoadOptions) (string, error) {
	dir := opt.CacheDir
	if dir == "" {
		base, err := fetch.Dir()
		if err != nil {
			return "", fmt.Errorf("cityscapes: %w", err)
		}
		dir = filepath.Join(base, "cityscapes")
	}
	root, err := filepath.Abs(d.Root)
	if err != nil {
		return "", fmt.Errorf("cityscapes: %w", err)
	}
	kinds := []string{GtFine, opt.colorKind()}
	if !opt.NoDisparity {
		kinds = append(kinds, Disparity)
	}
	h := sha256.New()
	fmt.Fprintln(h, root)
	for _, f := range frames {
		for _, kind := range kinds {
			fmt.Fprint(h, d.where(kind, f.file(kind)))
			if fsys, ok := d.kinds[kind]; ok {
				if fi, err := fs.Stat(fsys, f.file(kind)); err == nil {
					fmt.Fprint(h, " ", fi.Size(), " ", fi.ModTime().UnixNano())
				}
			}
			fmt.Fprintln(h)
		}
	}
	name := fmt.Sprintf("%s-%s-x%d", split, map[bool]string{false: "8bit", true: "16bit"}[opt.HDR],
		opt.factor())
	if opt.NoDisparity {
		name += "-nodisparity"
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	return filepath.Join(dir, key, name+".bin"), nil
}

// writeCache stores a atomically at path: magic, header length, JSON header,
// payload, and the payload's SHA-256. Colors are kept as 16-bit fractions of
// 1, disparities in their 16-bit PNG encoding (0 invalid, else d*256+1), which
// loses less than 1/65535 of color and 1/512 pixel of disparity.
func writeCache(path string, a *Arrays) error {
	hdr := cacheHeader{Split: a.Split, N: a.N, H: a.H, W: a.W, HDR: a.HDR, Factor: a.Factor,
		Disparity: a.Disparity != nil, Payload: payloadSize(a.N, a.H, a.W,
			a.Disparity != nil)}
	for _, f := range a.Frames {
		hdr.Frames = append(hdr.Frames, f.ID)
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return fmt.Errorf("cityscapes: %w", err)
	}
	err = fetch.WriteAtomic(path, func(out io.Writer) error {
		bw := bufio.NewWriterSize(out, 1<<20)
		bw.WriteString(cacheMagic)
		_ = binary.Write(bw, binary.LittleEndian, uint32(len(js)))
		bw.Write(js)
		h := sha256.New()
		if err := writePayload(io.MultiWriter(bw, h), a); err != nil {
			return err
		}
		bw.Write(h.Sum(nil))
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("cityscapes: caching %s: %w", path, err)
	}
	slog.Info("cityscapes: cached downscaled split", "split", a.Split, "file", path)
	return nil
}

// payloadSize is the number of payload bytes of n frames of h x w.
func payloadSize(n, h, w int, disparity bool) int64 {
	px := int64(n) * int64(h) * int64(w)
	size := px * (2*3 + 1)
	if disparity {
		size += px * 2
	}
	return size
}

func writePayload(w io.Writer, a *Arrays) error {
	bw := bufio.NewWriter(w)
	buf := make([]byte, 2)
	for _, v := range a.Color {
		binary.LittleEndian.PutUint16(buf, uint16(math.Round(float64(min(max(v, 0), 1))*65535)))
		bw.Write(buf)
	}
	for _, v := range a.Disparity {
		e := 0.0
		if v > 0 {
			e = min(math.Round(float64(v)*256)+1, 65535)
		}
		binary.LittleEndian.PutUint16(buf, uint16(e))
		bw.Write(buf)
	}
	bw.Write(a.Labels)
	return bw.Flush()
}

// readCache reads a cached split, checking that it holds exactly frames read
// with opt and that its payload is whole. A cache file that fails is removed.
func readCache(path string, split Split, frames []Frame, opt Options) (*Arrays, error) {
	a, err := readCacheFile(path, split, frames, opt)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		slog.Warn("cityscapes: ignoring bad cached split", "file", path, "err", err)
		_ = os.Remove(path)
	}
	return a, err
}

func readCacheFile(path string, split Split, frames []Frame, opt Options) (*Arrays, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(f, 1<<20)

	var magic [len(cacheMagic)]byte
	var n uint32
	if _, err := io.ReadFull(r, magic[:]); err != nil || string(magic[:]) != cacheMagic {
		return nil, fmt.Errorf("not a cached split of this version")
	}
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || int64(n) > fi.Size() {
		return nil, fmt.Errorf("bad header length")
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return nil, err
	}
	var hdr cacheHeader
	if err := json.Unmarshal(js, &hdr); err != nil {
		return nil, err
	}
	ids := make([]string, len(frames))
	for i, f := range frames {
		ids[i] = f.ID
	}
	px := int64(hdr.H) * int64(hdr.W)
	want := payloadSize(hdr.N, hdr.H, hdr.W, hdr.Disparity)
	switch {
	case hdr.Split != split || !slices.Equal(hdr.Frames, ids) || hdr.N != len(frames):
		return nil, fmt.Errorf("holds other frames")
	case hdr.HDR != opt.HDR || hdr.Disparity == opt.NoDisparity || hdr.Factor != opt.factor():
		return nil, fmt.Errorf("read with other options")
	case hdr.Payload != want || int64(len(cacheMagic))+4+int64(n)+want+sha256.Size != fi.Size():
		return nil, fmt.Errorf("length %d does not match its header", fi.Size())
	}

	h := sha256.New()
	tr := io.TeeReader(r, h)
	a := &Arrays{Split: split, Frames: frames, N: hdr.N, H: hdr.H, W: hdr.W, HDR: hdr.HDR,
		Factor: hdr.Factor}
	a.Color, err = readUint16s(tr, int(int64(hdr.N)*px*3), func(v uint16) float32 {
		return float32(v) / 65535
	})
	if err != nil {
		return nil, err
	}
	if hdr.Disparity {
		a.Disparity, err = readUint16s(tr, int(int64(hdr.N)*px), func(v uint16) float32 {
			if v == 0 {
				return 0
			}
			return float32(v-1) / 256
		})
		if err != nil {
			return nil, err
		}
	}
	a.Labels = make([]uint8, int64(hdr.N)*px)
	if _, err := io.ReadFull(tr, a.Labels); err != nil {
		return nil, err
	}
	var sum [sha256.Size]byte
	if _, err := io.ReadFull(r, sum[:]); err != nil {
		return nil, err
	}
	if !bytes.Equal(sum[:], h.Sum(nil)) {
		return nil, fmt.Errorf("payload checksum mismatch")
	}
	for i, id := range a.Labels {
		if int(id) >= NumLabels {
			return nil, fmt.Errorf("label id %d at %d out of range", id, i)
		}
	}
	return a, nil
}

func readUint16s(r io.Reader, n int, conv func(uint16) float32) ([]float32, error) {
	out := make([]float32, n)
	buf := make([]byte, 1<<16)
	for i := 0; i < n; {
		k := min(len(buf)/2, n-i)
		if _, err := io.ReadFull(r, buf[:2*k]); err != nil {
			return nil, err
		}
		for j := range k {
			out[i+j] = conv(binary.LittleEndian.Uint16(buf[2*j:]))
		}
		i += k
	}
	return out, nil
}
