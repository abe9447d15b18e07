package preview

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

func encoded(t *testing.T, enc func(*bytes.Buffer, image.Image) error, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webp1x1 is a lossless WebP image of one pixel.
var webp1x1 = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

func TestScale(t *testing.T) {
	for _, tt := range []struct {
		name         string
		data         []byte
		w, h         int // of the original
		sentW, sentH int
	}{
		{"large PNG", encoded(t, func(b *bytes.Buffer, i image.Image) error { return png.Encode(b, i) }, 3000, 2000), 3000, 2000, 1568, 1045},
		{"tall JPEG", encoded(t, func(b *bytes.Buffer, i image.Image) error { return jpeg.Encode(b, i, nil) }, 1000, 4000), 1000, 4000, 392, 1568},
		{"small GIF stays its size", encoded(t, func(b *bytes.Buffer, i image.Image) error { return gif.Encode(b, i, nil) }, 300, 200), 300, 200, 300, 200},
		{"WebP", webp1x1, 1, 1, 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if kind, _ := Sniff(tt.data, ""); kind != KindImage {
				t.Fatalf("Sniff = %s", kind)
			}
			img, err := Scale(context.Background(), tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if img.Width != tt.w || img.Height != tt.h || img.SentWidth != tt.sentW || img.SentHeight != tt.sentH {
				t.Errorf("sizes %+v", img)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(img.JPEG))
			if err != nil || cfg.Width != tt.sentW || cfg.Height != tt.sentH {
				t.Errorf("the JPEG is %dx%d (%v)", cfg.Width, cfg.Height, err)
			}
		})
	}
}

// TestBombsAreRefused: a PNG of a few bytes that claims to be 100 000 × 100 000 pixels is
// refused from its header, before anything is decoded.
func TestBombsAreRefused(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 100_000)
	binary.BigEndian.PutUint32(ihdr[4:], 100_000)
	ihdr[8], ihdr[9] = 8, 6 // 8 bits, RGBA
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	_, err := Scale(context.Background(), b.Bytes())
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
}

func TestSniff(t *testing.T) {
	for _, tt := range []struct {
		data     string
		declared string
		kind     Kind
		ct       string
	}{
		{"%PDF-1.4\n...", "", KindPDF, "application/pdf"},
		{"Артикул: 123\nЦвет: белый", "", KindText, "text/plain; charset=utf-8"},
		{"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "", KindOther, "image/heic"},
		{"PK\x03\x04zip", "application/zip", KindOther, "application/zip"},
	} {
		kind, ct := Sniff([]byte(tt.data), tt.declared)
		if kind != tt.kind || ct != tt.ct {
			t.Errorf("Sniff(%q) = %s %s, want %s %s", tt.data, kind, ct, tt.kind, tt.ct)
		}
	}
	if why := Why("image/heic"); !strings.Contains(why, "HEIC") {
		t.Errorf("Why(heic) = %q", why)
	}
}

func TestText(t *testing.T) {
	text, cut := Text([]byte("Инструкция\u200b по возврату\r\n"))
	if text != "Инструкция по возврату\n" || cut {
		t.Errorf("Text = %q, %v", text, cut)
	}
	if text, cut := Text([]byte(strings.Repeat("я", MaxText+1))); !cut || len([]rune(text)) != MaxText {
		t.Errorf("a long text: %d characters, cut %v", len([]rune(text)), cut)
	}
}
