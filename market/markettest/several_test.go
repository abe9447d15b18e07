package markettest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestMarketOfSeveralBusinesses: one address serves two businesses, each to its own key, with
// its own chats and budgets; a key of one used for the other is refused as Market refuses it.
func TestMarketOfSeveralBusinesses(t *testing.T) {
	m := NewMarket(
		[]Option{WithBusinessID(111), WithAPIKey("key-a"), WithBudget(OpGetChats, 5)},
		[]Option{WithBusinessID(222), WithAPIKey("key-b"), WithSeedShift(100000)},
	)
	defer m.Close()
	call := func(business, key string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, m.URL+"/v2/businesses/"+business+"/chats", strings.NewReader(`{}`))
		req.Header.Set("Api-Key", key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	a, b := m.Servers[0], m.Servers[1]
	if code, body := call("111", "key-a"); code != 200 || !strings.Contains(body, `"chatId":4821001`) {
		t.Errorf("business 111 with its key: %d %s", code, body)
	}
	if code, body := call("222", "key-b"); code != 200 || !strings.Contains(body, `"chatId":4921001`) || strings.Contains(body, `"chatId":4821001`) {
		t.Errorf("business 222 with its key: %d %s", code, body)
	}
	if code, body := call("222", "key-a"); code != 403 || !strings.Contains(body, "Access denied") {
		t.Errorf("business 222 with 111's key: %d %s", code, body)
	}
	if code, _ := call("333", "key-b"); code != 403 {
		t.Errorf("a business nobody serves: %d", code)
	}
	if code, _ := call("111", "nobody's"); code != 401 {
		t.Errorf("an unknown key: %d", code)
	}
	// Each business saw the requests with its key, and the one to its path with no one's.
	if ra, rb := a.Stats().Requests[OpGetChats], b.Stats().Requests[OpGetChats]; ra != 3 || rb != 2 {
		t.Errorf("requests counted %d and %d, want 3 and 2", ra, rb)
	}
}
