// Package replicas holds the tests of several server processes that share one Redis (REDIS_URL)
// against one in-memory Partner API that enforces Market's limits: they must behave, for Market,
// as one well-behaved client. They need redis-server and run with
// `go test -race -tags redis ./shared ./replicas`; CI runs them.
package replicas
