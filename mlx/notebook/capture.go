package notebook

import "sync"

// Kind says what a recorded output is.
type Kind int

// Kinds of recorded outputs.
const (
	KindHTML Kind = iota
	KindUpdateHTML
	KindPNG
)

// Item is one output seen by a Recorder.
type Item struct {
	// Kind of output, and the display id for KindUpdateHTML.
	Kind Kind
	ID   string

	// HTML content, or the encoded PNG.
	HTML string
	PNG  []byte
}

// Recorder keeps the outputs sent while a Capture is active, in order.
type Recorder struct {
	mu    sync.Mutex
	items []Item
	syncs int
	once  map[string]bool // Once keys seen while capturing without a session folder
}

// HTML implements Output.
func (r *Recorder) HTML(html string) { r.add(Item{Kind: KindHTML, HTML: html}) }

// UpdateHTML implements Output.
func (r *Recorder) UpdateHTML(id, html string) {
	r.add(Item{Kind: KindUpdateHTML, ID: id, HTML: html})
}

// PNG implements Output.
func (r *Recorder) PNG(png []byte) { r.add(Item{Kind: KindPNG, PNG: png}) }

// Sync implements Output; it counts the calls.
func (r *Recorder) Sync() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncs++
}

// Items returns a copy of the outputs recorded so far.
func (r *Recorder) Items() []Item {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Item(nil), r.items...)
}

// Final returns what a saved notebook would hold: final outputs in order, and each display
// block once, at its first place, with its last content (as Jupyter's update_display_data does).
func (r *Recorder) Final() []Item {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Item
	where := map[string]int{}
	for _, it := range r.items {
		if it.Kind == KindUpdateHTML {
			if i, ok := where[it.ID]; ok {
				out[i].HTML = it.HTML
				continue
			}
			where[it.ID] = len(out)
		}
		out = append(out, it)
	}
	return out
}

// Syncs returns how many times Sync was called.
func (r *Recorder) Syncs() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.syncs
}

func (r *Recorder) add(it Item) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append(r.items, it)
}

// Capture sends all rich output to a new Recorder until the returned stop function is called,
// and uses sessionDir as the kernel session folder (for Once); "" keeps Once in memory.
// It lets tests, and programs that render without a kernel, see what a notebook would get.
func Capture(sessionDir string) (*Recorder, func()) {
	r := &Recorder{once: map[string]bool{}}
	mu.Lock()
	prevRec, prevDir := captured, sessionOverride
	captured, sessionOverride = r, sessionDir
	mu.Unlock()
	return r, func() {
		mu.Lock()
		captured, sessionOverride = prevRec, prevDir
		mu.Unlock()
	}
}
