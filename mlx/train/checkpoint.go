package train

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/checkpoints"
)

// Checkpoint file layout inside a checkpoint directory: GoMLX's checkpoint pairs
// (checkpoint-n<count>-<time>-step-<step>.json and .bin), the best one linked under BestDir,
// and a staging directory where GoMLX writes before the pair is renamed into place.
const (
	// BestDir is the sub-directory of a checkpoint directory holding the best checkpoint.
	BestDir = "best"

	stagingDir   = ".staging"
	metricsScope = "/metrics"
	ckptPrefix   = "checkpoint-"
	jsonSuffix   = checkpoints.JsonNameSuffix
	binSuffix    = checkpoints.BinDataSuffix
)

// checkpointer saves checkpoints atomically: GoMLX's handler writes a checkpoint into a
// staging directory, then the data file and, last, the metadata file are renamed into the
// checkpoint directory, so a listing never shows a half-written checkpoint (a checkpoint
// exists once its .json exists). It keeps the last few checkpoints and, apart, the best.
type checkpointer struct {
	ctx     *context.Context
	dir     string
	staging string
	keep    int
	handler *checkpoints.Handler

	// last is the base path (without suffix) of the newest checkpoint, "" if none.
	last string
	// best is the base path of the best checkpoint, "" if none.
	best string
}

// openCheckpoints prepares dir, loads its newest checkpoint into ctx (variables are loaded
// as the model asks for them, hyperparameters at once) and returns the checkpointer.
func openCheckpoints(ctx *context.Context, dir string, keep int) (*checkpointer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: checkpoint directory: %w", err)
	}
	c := &checkpointer{dir: dir, staging: filepath.Join(dir, stagingDir), keep: max(keep, 1)}
	if err := removeOrphans(dir); err != nil {
		return nil, err
	}
	names, err := listCheckpoints(dir)
	if err != nil {
		return nil, err
	}
	if bestNames, err := listCheckpoints(filepath.Join(dir, BestDir)); err == nil &&
		len(bestNames) > 0 {
		c.best = filepath.Join(dir, BestDir, bestNames[len(bestNames)-1])
	}

	// Stage the newest checkpoint for GoMLX to load: it continues the numbering from it.
	if err := os.RemoveAll(c.staging); err != nil {
		return nil, fmt.Errorf("train: clearing checkpoint staging: %w", err)
	}
	if err := os.Mkdir(c.staging, 0o755); err != nil {
		return nil, fmt.Errorf("train: checkpoint staging: %w", err)
	}
	if len(names) > 0 {
		newest := names[len(names)-1]
		c.last = filepath.Join(dir, newest)
		for _, suffix := range []string{binSuffix, jsonSuffix} {
			err := linkOrCopy(c.last+suffix, filepath.Join(c.staging, newest+suffix))
			if err != nil {
				return nil, fmt.Errorf("train: staging checkpoint %s: %w", newest, err)
			}
		}
	}
	c.handler, err = checkpoints.Build(ctx).Dir(c.staging).Keep(-1).Done()
	if err != nil {
		return nil, fmt.Errorf("train: loading checkpoint from %s: %w", dir, err)
	}
	// The handler read the staged files in full; the staging directory is empty again.
	if err := clearDir(c.staging); err != nil {
		return nil, err
	}
	c.ctx = ctx
	c.fixLoaded()
	return c, nil
}

// fixLoaded corrects two things GoMLX's loader gets wrong on resume. A lazily loaded variable
// is trainable until its creator says otherwise, and the random-number state's creator never
// does, so Adam would "train" it (through float32, corrupting it): every non-float variable is
// loaded now and marked not trainable. The training-metric averages of earlier runs carry a
// new name in every run and would pile up in the checkpoints: they are dropped.
func (c *checkpointer) fixLoaded() {
	loaded := c.handler.LoadedVariables()
	names := make([]string, 0, len(loaded))
	for name := range loaded {
		names = append(names, name)
	}
	for _, name := range names {
		isFloat := loaded[name].Shape().DType.IsFloat()
		scope, varName := context.VariableScopeAndNameFromParameterName(name)
		switch {
		case isMetricsScope(scope):
			_ = c.handler.DeleteVariable(c.ctx, scope, varName)
		case !isFloat:
			if v := c.ctx.GetVariableByScopeAndName(scope, varName); v != nil {
				v.SetTrainable(false)
			}
		}
	}
}

// isMetricsScope reports whether scope holds GoMLX's training-metric variables.
func isMetricsScope(scope string) bool {
	return scope == metricsScope || strings.HasPrefix(scope, metricsScope+"/")
}

// save writes a checkpoint of the context, moves it into place, drops the old ones beyond
// keep, and returns its base path.
func (c *checkpointer) save() (string, error) {
	for v := range c.ctx.IterVariables() {
		if isMetricsScope(v.Scope()) {
			c.handler.ExcludeVarsFromSaving(v)
		}
	}
	if err := c.handler.Save(); err != nil {
		return "", fmt.Errorf("train: saving checkpoint: %w", err)
	}
	staged, err := listCheckpoints(c.staging)
	if err != nil {
		return "", err
	}
	if len(staged) != 1 {
		return "", fmt.Errorf("train: saving checkpoint: %d staged checkpoints, want 1",
			len(staged))
	}
	name := staged[0]
	for _, suffix := range []string{binSuffix, jsonSuffix} { // metadata last
		from, to := filepath.Join(c.staging, name+suffix), filepath.Join(c.dir, name+suffix)
		if err := syncFile(from); err != nil {
			return "", fmt.Errorf("train: saving checkpoint: %w", err)
		}
		if err := os.Rename(from, to); err != nil {
			return "", fmt.Errorf("train: saving checkpoint: %w", err)
		}
	}
	syncDir(c.dir)
	c.last = filepath.Join(c.dir, name)
	return c.last, c.prune()
}

// markBest makes the checkpoint at base path the best one, replacing the previous best.
func (c *checkpointer) markBest(base string) error {
	bestDir := filepath.Join(c.dir, BestDir)
	if err := os.MkdirAll(bestDir, 0o755); err != nil {
		return fmt.Errorf("train: best checkpoint: %w", err)
	}
	old, err := listCheckpoints(bestDir)
	if err != nil {
		return err
	}
	name := filepath.Base(base)
	for _, suffix := range []string{binSuffix, jsonSuffix} { // metadata last
		tmp := filepath.Join(bestDir, ".tmp-"+name+suffix)
		_ = os.Remove(tmp)
		if err := linkOrCopy(base+suffix, tmp); err != nil {
			return fmt.Errorf("train: best checkpoint: %w", err)
		}
		if err := os.Rename(tmp, filepath.Join(bestDir, name+suffix)); err != nil {
			return fmt.Errorf("train: best checkpoint: %w", err)
		}
	}
	for _, o := range old {
		if o != name {
			removePair(filepath.Join(bestDir, o))
		}
	}
	syncDir(bestDir)
	c.best = filepath.Join(bestDir, name)
	return nil
}

// prune removes the oldest checkpoints beyond keep.
func (c *checkpointer) prune() error {
	names, err := listCheckpoints(c.dir)
	if err != nil {
		return err
	}
	for len(names) > c.keep {
		removePair(filepath.Join(c.dir, names[0]))
		names = names[1:]
	}
	return nil
}

// listCheckpoints returns the base names of the complete checkpoints in dir (a .json with
// its .bin), oldest first (GoMLX names sort by a counter).
func listCheckpoints(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("train: listing checkpoints: %w", err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, ckptPrefix) || !strings.HasSuffix(name, jsonSuffix) {
			continue
		}
		base := strings.TrimSuffix(name, jsonSuffix)
		if _, err := os.Stat(filepath.Join(dir, base+binSuffix)); err != nil {
			continue
		}
		names = append(names, base)
	}
	sort.Strings(names)
	return names, nil
}

// removeOrphans deletes data files left without metadata by a save cut short.
func removeOrphans(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("train: listing checkpoints: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, ckptPrefix) || !strings.HasSuffix(name, binSuffix) {
			continue
		}
		base := strings.TrimSuffix(name, binSuffix)
		if _, err := os.Stat(filepath.Join(dir, base+jsonSuffix)); errors.Is(err, os.ErrNotExist) {
			_ = os.Remove(filepath.Join(dir, name))
		}
	}
	return nil
}

// removePair deletes a checkpoint's metadata (first, so it stops being listed) and data.
func removePair(base string) {
	_ = os.Remove(base + jsonSuffix)
	_ = os.Remove(base + binSuffix)
}

// clearDir removes the files of dir.
func clearDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("train: clearing %s: %w", dir, err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("train: clearing %s: %w", dir, err)
		}
	}
	return nil
}

// linkOrCopy hard-links from to to, copying where links are not possible.
func linkOrCopy(from, to string) error {
	if err := os.Link(from, to); err == nil {
		return nil
	}
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// syncFile flushes a written file to stable storage.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// syncDir flushes a directory's entries; failures (some file systems refuse) are ignored.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}
