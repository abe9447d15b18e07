package preview

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkScale12MP scales a 12-megapixel phone photo of about 5 MB (noise, which JPEG
// compresses least) down for a model: the time and memory get_attachment spends beyond the
// download.
func BenchmarkScale12MP(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Y {
		img.Y[i] = uint8(r.IntN(64) + 96)
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = uint8(r.IntN(16)+120), uint8(r.IntN(16)+120)
	}
	var src bytes.Buffer
	if err := jpeg.Encode(&src, img, &jpeg.Options{Quality: 86}); err != nil {
		b.Fatal(err)
	}
	var peak uint64
	b.ReportAllocs()
	for b.Loop() {
		out, err := Scale(context.Background(), src.Bytes())
		if err != nil || out.SentWidth != MaxSide {
			b.Fatalf("%+v, %v", out, err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		b.ReportMetric(float64(len(out.JPEG))/1024, "KB-output")
	}
	b.ReportMetric(float64(peak)/(1<<20), "MB-heap-in-use")
	b.ReportMetric(float64(src.Len())/(1<<20), "MB-input")
}
