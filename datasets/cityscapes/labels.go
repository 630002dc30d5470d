package cityscapes

import (
	"fmt"
	"image/color"
	"slices"
)

// Label is one row of the Cityscapes label table.
type Label struct {
	Name         string
	ID           int    // the value in *_gtFine_labelIds.png; -1 for the license plate
	TrainID      int    // the suggested training id; 255 ignored, -1 for the license plate
	Category     string // "void", "flat", "construction", "object", "nature", "sky", "human", "vehicle"
	CategoryID   int
	HasInstances bool
	IgnoreInEval bool // ignored by the official evaluation
	Color        color.RGBA
}

// Void reports whether the label belongs to the void category (ids 0 to 6),
// the regions masked out of the loss.
func (l Label) Void() bool { return l.Category == "void" }

// NumLabels is the number of label ids found in label images: 0 to 33.
const NumLabels = 34

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 255} }

// Labels is the Cityscapes label table: the 34 labels of the label images,
// by id, then the license plate, which has id -1 and appears only in instance
// annotations.
var Labels = []Label{
	{"unlabeled", 0, 255, "void", 0, false, true, rgb(0, 0, 0)},
	{"ego vehicle", 1, 255, "void", 0, false, true, rgb(0, 0, 0)},
	{"rectification border", 2, 255, "void", 0, false, true, rgb(0, 0, 0)},
	{"out of roi", 3, 255, "void", 0, false, true, rgb(0, 0, 0)},
	{"static", 4, 255, "void", 0, false, true, rgb(0, 0, 0)},
	{"dynamic", 5, 255, "void", 0, false, true, rgb(111, 74, 0)},
	{"ground", 6, 255, "void", 0, false, true, rgb(81, 0, 81)},
	{"road", 7, 0, "flat", 1, false, false, rgb(128, 64, 128)},
	{"sidewalk", 8, 1, "flat", 1, false, false, rgb(244, 35, 232)},
	{"parking", 9, 255, "flat", 1, false, true, rgb(250, 170, 160)},
	{"rail track", 10, 255, "flat", 1, false, true, rgb(230, 150, 140)},
	{"building", 11, 2, "construction", 2, false, false, rgb(70, 70, 70)},
	{"wall", 12, 3, "construction", 2, false, false, rgb(102, 102, 156)},
	{"fence", 13, 4, "construction", 2, false, false, rgb(190, 153, 153)},
	{"guard rail", 14, 255, "construction", 2, false, true, rgb(180, 165, 180)},
	{"bridge", 15, 255, "construction", 2, false, true, rgb(150, 100, 100)},
	{"tunnel", 16, 255, "construction", 2, false, true, rgb(150, 120, 90)},
	{"pole", 17, 5, "object", 3, false, false, rgb(153, 153, 153)},
	{"polegroup", 18, 255, "object", 3, false, true, rgb(153, 153, 153)},
	{"traffic light", 19, 6, "object", 3, false, false, rgb(250, 170, 30)},
	{"traffic sign", 20, 7, "object", 3, false, false, rgb(220, 220, 0)},
	{"vegetation", 21, 8, "nature", 4, false, false, rgb(107, 142, 35)},
	{"terrain", 22, 9, "nature", 4, false, false, rgb(152, 251, 152)},
	{"sky", 23, 10, "sky", 5, false, false, rgb(70, 130, 180)},
	{"person", 24, 11, "human", 6, true, false, rgb(220, 20, 60)},
	{"rider", 25, 12, "human", 6, true, false, rgb(255, 0, 0)},
	{"car", 26, 13, "vehicle", 7, true, false, rgb(0, 0, 142)},
	{"truck", 27, 14, "vehicle", 7, true, false, rgb(0, 0, 70)},
	{"bus", 28, 15, "vehicle", 7, true, false, rgb(0, 60, 100)},
	{"caravan", 29, 255, "vehicle", 7, true, true, rgb(0, 0, 90)},
	{"trailer", 30, 255, "vehicle", 7, true, true, rgb(0, 0, 110)},
	{"train", 31, 16, "vehicle", 7, true, false, rgb(0, 80, 100)},
	{"motorcycle", 32, 17, "vehicle", 7, true, false, rgb(0, 0, 230)},
	{"bicycle", 33, 18, "vehicle", 7, true, false, rgb(119, 11, 32)},
	{"license plate", -1, -1, "vehicle", 7, false, true, rgb(0, 0, 142)},
}

// LabelByID returns the label with the given id.
func LabelByID(id int) (Label, bool) {
	if id >= 0 && id < NumLabels {
		return Labels[id], true
	}
	if id == -1 {
		return Labels[NumLabels], true
	}
	return Label{}, false
}

// LabelByName returns the label with the given name.
func LabelByName(name string) (Label, bool) {
	for _, l := range Labels {
		if l.Name == name {
			return l, true
		}
	}
	return Label{}, false
}

// Void is the class index of label ids masked out of the loss.
const Void = -1

// ClassSet maps the label ids of the label images to the classes a model
// learns. ByID[id] is the class of label id, or Void to mask it out.
type ClassSet struct {
	Name  string
	Names []string       // class names, by class index
	ByID  [NumLabels]int // class index of each label id, or Void
}

// NumClasses returns the number of classes.
func (c ClassSet) NumClasses() int { return len(c.Names) }

// Map turns a label image (label ids) into class indices and a loss mask: 1
// where the pixel counts, 0 where its label is Void (its class is then 0).
func (c ClassSet) Map(labelIDs []uint8) (classes []int32, mask []float32, err error) {
	classes = make([]int32, len(labelIDs))
	mask = make([]float32, len(labelIDs))
	for i, id := range labelIDs {
		if int(id) >= NumLabels {
			return nil, nil, fmt.Errorf("cityscapes: pixel %d: label id %d out of range [0, %d)",
				i, id, NumLabels)
		}
		if k := c.ByID[id]; k != Void {
			classes[i] = int32(k)
			mask[i] = 1
		}
	}
	return classes, mask, nil
}

// FullClasses is the full class spectrum: the 19 classes of the official
// evaluation (the train ids), with every label the evaluation ignores masked.
func FullClasses() ClassSet {
	c := ClassSet{Name: "full", Names: make([]string, 19)}
	for _, l := range Labels[:NumLabels] {
		if l.TrainID >= 0 && l.TrainID < 19 {
			c.ByID[l.ID] = l.TrainID
			c.Names[l.TrainID] = l.Name
		} else {
			c.ByID[l.ID] = Void
		}
	}
	return c
}

// AllLabels has one class per label id (34 classes) and masks the void
// category only.
func AllLabels() ClassSet {
	c := ClassSet{Name: "all", Names: make([]string, NumLabels)}
	for _, l := range Labels[:NumLabels] {
		c.Names[l.ID] = l.Name
		c.ByID[l.ID] = l.ID
		if l.Void() {
			c.ByID[l.ID] = Void
		}
	}
	return c
}

// DefaultWalkable are the categories counted as walkable by default.
var DefaultWalkable = []string{"flat"}

// WalkableClasses is the two-class set "rest" (0) and "walkable" (1): labels
// of the given categories (none given: DefaultWalkable, that is road,
// sidewalk, parking and rail track) are walkable, the void category is
// masked, and all else is rest. A category may also be a label name, to
// pick single labels.
func WalkableClasses(categories ...string) ClassSet {
	if len(categories) == 0 {
		categories = DefaultWalkable
	}
	c := ClassSet{Name: "walkable", Names: []string{"rest", "walkable"}}
	for _, l := range Labels[:NumLabels] {
		switch {
		case slices.Contains(categories, l.Category) || slices.Contains(categories, l.Name):
			c.ByID[l.ID] = 1
		case l.Void():
			c.ByID[l.ID] = Void
		default:
			c.ByID[l.ID] = 0
		}
	}
	return c
}

// Colorize paints a label image (label ids) with the labels' colors as RGB
// bytes, black for ids out of range.
func Colorize(labelIDs []uint8) []uint8 {
	out := make([]uint8, 3*len(labelIDs))
	for i, id := range labelIDs {
		if int(id) < NumLabels {
			c := Labels[id].Color
			out[3*i], out[3*i+1], out[3*i+2] = c.R, c.G, c.B
		}
	}
	return out
}
