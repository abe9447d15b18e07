package markettest

import (
	"net/http"
	"testing"
)

// BenchmarkNew measures starting a server, listener included; the seed waits for first use.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		New().Close()
	}
}

// BenchmarkSeed measures building the seed alone, as the sandbox pays for it on first use.
func BenchmarkSeed(b *testing.B) {
	for b.Loop() {
		s := NewHandler("http://127.0.0.1:8081")
		s.data()
		s.Close()
	}
}

func BenchmarkGetChats(b *testing.B) {
	s := newTestServer(b, WithoutLimits(), WithoutRequestLog())
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if a := post(b, s, "/chats", `{"statuses":["WAITING_FOR_PARTNER"]}`); a.status != http.StatusOK {
				b.Fatalf("status %d", a.status)
			}
		}
	})
}
