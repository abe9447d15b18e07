package markettest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"slices"
)

// A page token is opaque to clients: base64url of a digest of the query it continues, followed
// by the sort keys of the last item of the previous page. Keys rather than offsets let a page
// follow on correctly when chats or messages are added between requests. A token that does not
// decode, or belongs to another query, is refused as the API refuses a bad or stale one.

var errBadPageToken = badRequestf("Bad page token")

// paging is PackagingForwardScrollingPagerDTO; it is left out on the last page.
type paging struct {
	NextPageToken string `json:"nextPageToken"`
}

// digest identifies a query by its parts, so that a token is honoured only for the query it
// came from.
func digest(parts ...any) uint64 {
	b, _ := json.Marshal(parts)
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

func nextPage(digest uint64, keys ...int64) *paging {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8*(len(keys)+1)), digest)
	for _, k := range keys {
		b = binary.BigEndian.AppendUint64(b, uint64(k))
	}
	return &paging{NextPageToken: base64.RawURLEncoding.EncodeToString(b)}
}

func decodeToken(token string, digest uint64, n int) ([]int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != 8*(n+1) || binary.BigEndian.Uint64(b) != digest {
		return nil, errBadPageToken
	}
	keys := make([]int64, n)
	for i := range keys {
		keys[i] = int64(binary.BigEndian.Uint64(b[8*(i+1):]))
	}
	return keys, nil
}

// page returns up to limit items of sorted, starting with the first one past the cursor (all of
// them when past is nil), and whether more follow.
func page[T any](sorted []T, past func(T) bool, limit int) ([]T, bool) {
	if past != nil {
		i := slices.IndexFunc(sorted, past)
		if i < 0 {
			return nil, false
		}
		sorted = sorted[i:]
	}
	if len(sorted) > limit {
		return sorted[:limit], true
	}
	return sorted, false
}
