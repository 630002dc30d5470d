package cityscapes

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/datasets"

	"github.com/dlexp/dlexp/datasets/fetch"
	"github.com/dlexp/dlexp/datasets/imageset"
	"github.com/dlexp/dlexp/datasets/transform"
)

// Arrays holds a whole split, downscaled, frame after frame, channels last.
type Arrays struct {
	Split   Split
	Frames  []Frame
	N, H, W int
	HDR     bool // color came from the 16-bit images
	Factor  int  // the downscaling factor

	Color     []float32 // N*H*W*3 values in [0, 1]
	Disparity []float32 // N*H*W disparities in full-size pixels, 0 where invalid; nil if not read
	Labels    []uint8   // N*H*W label ids
}

// LoadOptions add to Options how a whole split is read.
type LoadOptions struct {
	Options

	// CacheDir holds the downscaled splits; "" means "cityscapes" in the data
	// cache (see fetch.Dir). NoCache reads the PNGs every time.
	CacheDir string
	NoCache  bool

	// Workers decode frames in parallel; 0 means GOMAXPROCS.
	Workers int

	// Quiet turns off the progress line.
	Quiet bool
}

// Load opens the dataset in $CITYSCAPES_DATASET and returns split, from the
// cache of downscaled splits when it is there and still matches the files.
func Load(ctx context.Context, split Split, opt LoadOptions) (*Arrays, error) {
	d, err := Open("")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Load(ctx, split, opt)
}

// Load returns split, downscaled, from the cache when it holds this split of
// these files read with these options, else from the PNGs (then caching it).
func (d *Dataset) Load(ctx context.Context, split Split, opt LoadOptions) (*Arrays, error) {
	frames, err := d.Frames(split)
	if err != nil {
		return nil, err
	}
	var cachePath string
	if !opt.NoCache {
		cachePath, err = d.cachePath(split, frames, opt)
		if err != nil {
			return nil, err
		}
		if a, err := readCache(cachePath, split, frames, opt.Options); err == nil {
			return a, nil
		}
	}

	a, err := d.decode(ctx, split, frames, opt)
	if err != nil {
		return nil, err
	}
	if cachePath != "" {
		if err := writeCache(cachePath, a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// decode reads and downscales every frame, in parallel.
func (d *Dataset) decode(ctx context.Context, split Split, frames []Frame,
	opt LoadOptions) (*Arrays, error) {
	first, err := d.LoadFrame(frames[0], opt.Options)
	if err != nil {
		return nil, err
	}
	a := &Arrays{Split: split, Frames: frames, N: len(frames), H: first.H, W: first.W,
		HDR: opt.HDR, Factor: opt.factor()}
	px := a.H * a.W
	a.Color = make([]float32, a.N*px*3)
	a.Labels = make([]uint8, a.N*px)
	if !opt.NoDisparity {
		a.Disparity = make([]float32, a.N*px)
	}
	a.put(0, first)

	var out = fetch.ProgressOutput()
	if opt.Quiet {
		out = nil
	}
	prog := fetch.NewCounter(out, "cityscapes: "+string(split)+" frames", int64(a.N))
	prog.Add(1)
	defer prog.Finish()

	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	next.Store(1)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= a.N || ctx.Err() != nil {
					return
				}
				s, err := d.LoadFrame(frames[i], opt.Options)
				if err == nil && (s.H != a.H || s.W != a.W) {
					err = fmt.Errorf("cityscapes: frame %s is %dx%d after downscaling, "+
						"frame %s is %dx%d", frames[i].ID, s.W, s.H, frames[0].ID, a.W, a.H)
				}
				if err != nil {
					errs[w] = err
					next.Store(int64(a.N))
					return
				}
				a.put(i, s)
				prog.Add(1)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cityscapes: %w", err)
	}
	return a, nil
}

// put copies sample s into frame i.
func (a *Arrays) put(i int, s *Sample) {
	px := a.H * a.W
	copy(a.Color[i*px*3:], s.Color)
	copy(a.Labels[i*px:], s.Labels)
	if a.Disparity != nil {
		copy(a.Disparity[i*px:], s.Disparity)
	}
}

// Sample returns frame i as a Sample sharing memory with a.
func (a *Arrays) Sample(i int) *Sample {
	px := a.H * a.W
	s := &Sample{Frame: a.Frames[i], H: a.H, W: a.W,
		Color:  a.Color[i*px*3 : (i+1)*px*3],
		Labels: a.Labels[i*px : (i+1)*px]}
	if a.Disparity != nil {
		s.Disparity = a.Disparity[i*px : (i+1)*px]
	}
	return s
}

// FlipH mirrors the sample left to right: color, disparity and labels together.
func (s *Sample) FlipH() {
	one := transform.Shape{N: 1, H: s.H, W: s.W, C: 1}
	rgb := transform.Shape{N: 1, H: s.H, W: s.W, C: 3}
	c, _ := transform.FlipH(s.Color, rgb)
	copy(s.Color, c)
	l, _ := transform.FlipH(s.Labels, one)
	copy(s.Labels, l)
	if s.Disparity != nil {
		dp, _ := transform.FlipH(s.Disparity, one)
		copy(s.Disparity, dp)
	}
}

// FlipRandom mirrors each frame in place with probability 1/2, drawn from
// seed, and reports which frames it flipped. Call it with a new seed each
// epoch for random horizontal flips.
func (a *Arrays) FlipRandom(seed uint64) []bool {
	perm := transform.Permutation(a.N, seed)
	flipped := make([]bool, a.N)
	for _, i := range perm[:a.N/2] {
		a.Sample(i).FlipH()
		flipped[i] = true
	}
	return flipped
}

// DefaultDisparityScale brings disparities, up to (65535-1)/256 pixels, into
// [0, 1) as network inputs.
const DefaultDisparityScale = 1.0 / 256

// Inputs returns the network input of every frame: the three color channels
// followed, when disparity was read, by the disparity times disparityScale,
// shaped N x H x W x C with C = 4 (or 3 without disparity).
func (a *Arrays) Inputs(disparityScale float32) ([]float32, transform.Shape) {
	c := 3
	if a.Disparity != nil {
		c = 4
	}
	px := a.N * a.H * a.W
	out := make([]float32, px*c)
	for p := range px {
		copy(out[p*c:p*c+3], a.Color[p*3:p*3+3])
		if c == 4 {
			out[p*c+3] = a.Disparity[p] * disparityScale
		}
	}
	return out, transform.Shape{N: a.N, H: a.H, W: a.W, C: c}
}

// Targets maps the label ids through classes: class indices and a loss mask
// (0 on Void pixels), each N*H*W values.
func (a *Arrays) Targets(classes ClassSet) ([]int32, []float32, error) {
	return classes.Map(a.Labels)
}

// Dataset returns a GoMLX in-memory dataset of the split: input the float32
// tensor of Inputs ([N, H, W, C]); labels the int32 class tensor [N, H, W, 1]
// and the float32 mask tensor [N, H, W, 1] (0 on void pixels).
func (a *Arrays) Dataset(backend backends.Backend, classes ClassSet,
	disparityScale float32) (*datasets.InMemoryDataset, error) {
	in, shape := a.Inputs(disparityScale)
	cls, mask, err := a.Targets(classes)
	if err != nil {
		return nil, err
	}
	return imageset.InMemory(backend, "cityscapes/"+string(a.Split)+"/"+classes.Name,
		[]*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, shape.N, shape.H, shape.W, shape.C)},
		[]*tensors.Tensor{
			tensors.FromFlatDataAndDimensions(cls, a.N, a.H, a.W, 1),
			tensors.FromFlatDataAndDimensions(mask, a.N, a.H, a.W, 1),
		})
}
