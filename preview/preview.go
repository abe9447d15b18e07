// Package preview makes the files buyers send into what a language model can take in: a photo
// scaled down so that its long side is at most MaxSide pixels and encoded as a small JPEG, the
// text of a text file, or the bytes of a PDF; and tells plainly why any other file cannot be
// shown.
//
// Decoding is bounded: a few images at a time (MaxDecodes), and none whose dimensions, read
// from its header before anything is decoded, come to more than MaxPixels, so that a small file
// that claims a huge image (a decompression bomb) costs nothing.
package preview

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	_ "image/gif" // decoders, registered for image.Decode
	"image/jpeg"
	_ "image/png"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"github.com/yandex-market-mcp/market-chat-mcp/untrusted"
)

// Limits of a preview.
const (
	// MaxSide is the longest side of an image sent to a model, in pixels: what the models that
	// read images take without scaling it down again.
	MaxSide = 1568
	// MaxPixels bounds the size of an image that is decoded at all (50 megapixels, well above
	// any phone's camera).
	MaxPixels = 50_000_000
	// MaxDecodes is how many images are decoded at once.
	MaxDecodes = 2
	// MaxText bounds the text of a text file that is shown, in characters.
	MaxText = 50_000
)

// Kind is what a file can be shown as.
type Kind string

// The kinds of files.
const (
	KindImage Kind = "image"
	KindPDF   Kind = "pdf"
	KindText  Kind = "text"
	KindOther Kind = "none"
)

// Sniff tells what a file is from its first bytes, and, when they do not tell, from the
// content type its host gave. It returns the kind and the content type.
func Sniff(data []byte, declared string) (Kind, string) {
	switch sniffed := http.DetectContentType(data); {
	case isHEIC(data):
		return KindOther, "image/heic"
	case strings.HasPrefix(sniffed, "image/jpeg"), strings.HasPrefix(sniffed, "image/png"),
		strings.HasPrefix(sniffed, "image/gif"), strings.HasPrefix(sniffed, "image/webp"):
		return KindImage, sniffed
	case strings.HasPrefix(sniffed, "application/pdf"):
		return KindPDF, "application/pdf"
	case strings.HasPrefix(sniffed, "text/plain") && utf8.Valid(data):
		return KindText, "text/plain; charset=utf-8"
	case declared != "":
		return KindOther, declared
	default:
		return KindOther, sniffed
	}
}

// isHEIC reports whether data is an HEIF image, as iPhones take photos: an ISO box "ftyp" with
// an HEIF brand.
func isHEIC(data []byte) bool {
	if len(data) < 12 || string(data[4:8]) != "ftyp" {
		return false
	}
	switch string(data[8:12]) {
	case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
		return true
	}
	return false
}

// Why tells why a file of kind KindOther cannot be shown, as a sentence.
func Why(contentType string) string {
	if contentType == "image/heic" {
		return "It is an HEIC photo, which the server cannot show: the only Go decoder of HEIC runs libheif (LGPL) " +
			"compiled to WebAssembly, which this server does not ship. Ask the buyer for a JPEG or a screenshot."
	}
	return fmt.Sprintf("A file of type %s cannot be shown; only photos (JPEG, PNG, GIF, WebP), PDFs and text files can.", contentType)
}

// Image is an image scaled for a model.
type Image struct {
	JPEG                  []byte
	Width, Height         int // of the original
	SentWidth, SentHeight int // of JPEG
}

// ErrTooLarge is the cause of an image whose dimensions are over MaxPixels.
var ErrTooLarge = fmt.Errorf("the image is over %d megapixels", MaxPixels/1_000_000)

// decodes admits MaxDecodes images at a time.
var decodes = make(chan struct{}, MaxDecodes)

// Scale decodes an image, scales it down to at most MaxSide pixels on its long side and
// encodes it as JPEG, with transparency on white. It waits for its turn among MaxDecodes.
func Scale(ctx context.Context, data []byte) (*Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("the image cannot be read: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("%w: it claims %d×%d pixels", ErrTooLarge, cfg.Width, cfg.Height)
	}
	select {
	case decodes <- struct{}{}:
		defer func() { <-decodes }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("the image cannot be decoded: %w", err)
	}
	b := src.Bounds()
	w, h := fit(b.Dx(), b.Dy())
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	stddraw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, stddraw.Src)
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	var out bytes.Buffer
	for _, q := range []int{80, 60} {
		out.Reset()
		if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: q}); err != nil {
			return nil, err
		}
		if out.Len() <= 1<<20 {
			break
		}
	}
	return &Image{JPEG: out.Bytes(), Width: b.Dx(), Height: b.Dy(), SentWidth: w, SentHeight: h}, nil
}

// fit returns the size of an image of w×h scaled down so that its long side is at most MaxSide.
func fit(w, h int) (int, int) {
	long := max(w, h)
	if long <= MaxSide {
		return w, h
	}
	return max(1, w*MaxSide/long), max(1, h*MaxSide/long)
}

// Text returns the text of a text file as a model may read it: without invisible characters,
// and cut at MaxText characters.
func Text(data []byte) (text string, cut bool) {
	s := untrusted.Clean(string(data))
	if utf8.RuneCountInString(s) <= MaxText {
		return s, false
	}
	return string([]rune(s)[:MaxText]), true
}
