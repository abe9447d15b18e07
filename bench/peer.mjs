// The benchmark's peer: market-chat-mcp's list_chats and get_history written the usual way with
// the official TypeScript SDK (McpServer, zod schemas, the SDK's stdio and Streamable HTTP
// transports), calling the same Partner API with fetch.
//
// It takes the server's settings YANDEX_MARKET_BASE_URL, YANDEX_MARKET_API_KEY and
// YANDEX_MARKET_BUSINESS_ID. It serves stdio, or with --http Streamable HTTP at /mcp on a free
// loopback port, which it prints on stderr. zod is the SDK's required peer dependency, installed
// beside it.

import { randomUUID } from 'node:crypto';
import http from 'node:http';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const { YANDEX_MARKET_BASE_URL: baseURL, YANDEX_MARKET_API_KEY: apiKey, YANDEX_MARKET_BUSINESS_ID: business } = process.env;
if (!baseURL || !apiKey || !business) {
  throw new Error('YANDEX_MARKET_BASE_URL, YANDEX_MARKET_API_KEY and YANDEX_MARKET_BUSINESS_ID must be set');
}
const api = `${baseURL.replace(/\/+$/, '')}/v2/businesses/${business}`;

/** market calls a Partner API operation and returns its result, or throws the API's error. */
async function market(path, query, body) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined));
  const res = await fetch(`${api}${path}?${q}`, {
    method: 'POST',
    headers: { 'Api-Key': apiKey, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const envelope = await res.json();
  if (!res.ok || envelope.status !== 'OK') {
    throw new Error(`Market answered ${res.status}: ${envelope.errors?.[0]?.message ?? 'no message'}`);
  }
  return envelope.result;
}

// Buyer text reaches the model without invisible characters, as the server's does.
const hidden = /[\p{Cc}\p{Cf}\p{Co}]/gu;
const clean = (s) => s?.replace(hidden, (c) => (c === '\n' || c === '\t' ? c : ''));

const contextOut = (c) => ({
  type: c.type,
  order_id: c.orderId,
  return_id: c.returnId,
  campaign_id: c.campaignId,
  customer_name: clean(c.customer?.name),
  customer_public_id: clean(c.customer?.publicId),
});

const contextSchema = z.object({
  type: z.string(),
  order_id: z.number().int().optional(),
  return_id: z.number().int().optional(),
  campaign_id: z.number().int().optional(),
  customer_name: z.string().optional(),
  customer_public_id: z.string().optional(),
});

const chatSchema = z.object({
  chat_id: z.number().int(),
  type: z.string(),
  status: z.string(),
  context: contextSchema,
  created_at: z.string(),
  updated_at: z.string(),
});

const messageSchema = z.object({
  message_id: z.number().int(),
  created_at: z.string(),
  sender: z.string(),
  text: z.string().optional(),
  attachments: z.array(z.object({ name: z.string(), url: z.string(), size: z.number().int() })).optional(),
});

const ids = z.array(z.number().int().min(1)).min(1).max(50).optional();

/** result is a tool's answer: structured content and the same JSON as text. */
const result = (out) => ({ content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out });
const failure = (err) => ({ content: [{ type: 'text', text: String(err.message ?? err) }], isError: true });

/** newServer returns an MCP server with the two tools. */
function newServer() {
  const server = new McpServer({ name: 'market-chat-peer', version: '1.0.0' });
  server.registerTool(
    'list_chats',
    {
      title: 'List buyer chats',
      description: "Lists the seller's chats with buyers on Yandex Market, most recently active first.",
      inputSchema: {
        statuses: z
          .array(z.enum(['NEW', 'WAITING_FOR_CUSTOMER', 'WAITING_FOR_PARTNER', 'WAITING_FOR_ARBITER', 'WAITING_FOR_MARKET', 'FINISHED']))
          .min(1)
          .optional(),
        types: z.array(z.enum(['CHAT', 'ARBITRAGE'])).min(1).optional(),
        context_types: z.array(z.enum(['ORDER', 'RETURN', 'DIRECT'])).min(1).optional(),
        order_ids: ids,
        return_ids: ids,
        limit: z.number().int().min(1).max(20).optional(),
        page_token: z.string().optional(),
      },
      outputSchema: { chats: z.array(chatSchema), next_page_token: z.string().optional() },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (a) => {
      try {
        const contexts = [
          ...(a.order_ids ?? []).map((id) => ({ type: 'ORDER', id })),
          ...(a.return_ids ?? []).map((id) => ({ type: 'RETURN', id })),
        ];
        const page = await market(
          '/chats',
          { limit: a.limit, pageToken: a.page_token },
          { statuses: a.statuses, types: a.types, contextTypes: a.context_types, contexts: contexts.length ? contexts : undefined },
        );
        return result({
          chats: page.chats.map((c) => ({
            chat_id: c.chatId,
            type: c.type,
            status: c.status,
            context: contextOut({ orderId: c.orderId, ...c.context }),
            created_at: c.createdAt,
            updated_at: c.updatedAt,
          })),
          next_page_token: page.paging?.nextPageToken,
        });
      } catch (err) {
        return failure(err);
      }
    },
  );
  server.registerTool(
    'get_history',
    {
      title: "Read a chat's messages",
      description: 'Returns the messages of a chat, oldest first within a page, with who wrote each one and attached files.',
      inputSchema: {
        chat_id: z.number().int().min(1),
        message_id_from: z.number().int().min(1).optional(),
        limit: z.number().int().min(1).max(100).optional(),
        page_token: z.string().optional(),
      },
      outputSchema: {
        chat_id: z.number().int(),
        context: contextSchema,
        messages: z.array(messageSchema),
        next_page_token: z.string().optional(),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (a) => {
      try {
        const h = await market(
          '/chats/history',
          { chatId: a.chat_id, limit: a.limit, pageToken: a.page_token },
          { messageIdFrom: a.message_id_from },
        );
        return result({
          chat_id: a.chat_id,
          context: contextOut({ orderId: h.orderId, ...h.context }),
          messages: h.messages
            .map((m) => ({
              message_id: m.messageId,
              created_at: m.createdAt,
              sender: m.sender,
              text: clean(m.message),
              attachments: m.payload?.map((p) => ({ name: clean(p.name), url: p.url, size: p.size })),
            }))
            .sort((x, y) => x.message_id - y.message_id),
          next_page_token: h.paging?.nextPageToken,
        });
      } catch (err) {
        return failure(err);
      }
    },
  );
  return server;
}

if (process.argv[2] === '--http') {
  // One transport and server per session, as the SDK's examples do.
  const sessions = new Map();
  const httpServer = http.createServer(async (req, res) => {
    if (new URL(req.url, 'http://localhost').pathname !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const id = req.headers['mcp-session-id'];
    let transport = id && sessions.get(id);
    if (!transport) {
      if (id) {
        res.writeHead(404).end();
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => sessions.set(sid, transport),
      });
      transport.onclose = () => sessions.delete(transport.sessionId);
      await newServer().connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  httpServer.listen(0, '127.0.0.1', () => {
    console.error(`serving MCP over Streamable HTTP at http://127.0.0.1:${httpServer.address().port}/mcp`);
  });
} else {
  await newServer().connect(new StdioServerTransport());
}
