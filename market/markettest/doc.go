// Package markettest is an in-memory stand-in for the chat methods of the Yandex Market Partner
// API, served over real HTTP. It backs the API client's tests, end-to-end tests and the sandbox,
// where it lets anyone try the chats with no seller account.
//
// It follows the API reference rather than any client: it has its own wire types, and it is
// strict where the reference is, so that a client's mistake shows up here as it would against
// Market. Every operation lives under /v2/businesses/{businessId}:
//
//	POST /chats/new          createChat
//	POST /chats              getChats
//	GET  /chat               getChat
//	POST /chats/history      getChatHistory
//	GET  /chats/message      getChatMessage
//	POST /chats/message      sendMessageToChat
//	POST /chats/file/send    sendFileToChat
//
// Files sent to chats are served at {URL}/files/{id}/{name} to the same credentials. Errors use
// the API's envelope, {"status":"ERROR","errors":[{"code":...,"message":...}]}.
//
// The server enforces the API's limits: per operation a budget of requests over a fixed window
// (the documented hourly figures by default), reported on every answer in the
// X-RateLimit-Resource-Limit, -Remaining and -Until headers, and at most four requests in flight.
// Either is answered with status 420. Tests can shrink the limits, move a fake clock through the
// windows and inject faults per operation: error statuses, delays, dropped connections, garbage
// bodies, and writes that are stored before the answer fails.
//
// A request goes through these steps, and the first that fails answers it:
//
//  1. the path and method: 404 "Resource not found" for a path that is no operation (every
//     operation's path starts with /v2/), 405 for a method the path does not have;
//  2. the credentials (401, or 403 for an OAuth token that is not the server's) and the business
//     in the path (400 if it is no id, 403 "Access denied" if it is another business's);
//  3. the next fault injected for the operation, if any;
//  4. the parallel limit, then the operation's budget (420);
//  5. the operation itself: its parameters and body (415, 400), then the chat, message, order or
//     return it names (404).
//
// A request counts as in flight from step 3 until its answer is written. Answers from step 3 on
// spend budget by their status and carry the X-RateLimit-Resource-* headers, except a 420 of the
// parallel limit, which has none, and a dropped connection. Earlier answers cannot be attributed
// to the business, so they do neither.
//
// Where the reference is silent the server makes an assumption, marked "Assumption:" in the
// source. The main ones: getChatHistory returns messages oldest first and messageIdFrom is
// inclusive (options turn either around); a message to a FINISHED chat, a file over 5 MB and an
// empty file get 400.
package markettest
