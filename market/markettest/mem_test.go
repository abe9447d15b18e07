package markettest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestInMemoryOnTheBubblesClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewInMemory()
		defer s.Close()
		s.Inject(OpGetChats, Fault{Delay: time.Hour})
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/v2/businesses/7654321/chats", strings.NewReader("{}"))
		req.Header.Set("Api-Key", s.APIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || time.Since(start) != time.Hour {
			t.Errorf("status %d after %v: %s", resp.StatusCode, time.Since(start), body)
		}
	})
}
