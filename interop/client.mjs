// A seller's session with the server through the TypeScript MCP SDK, once over each transport.
//
// It records what happened and prints one JSON summary on stdout; interop's Go tests judge it.
// It only throws for a broken setup, so that one failing transport still leaves a summary of the
// others.
//
// Environment: INTEROP_BINARY (the server, run with --sandbox over stdio), INTEROP_BASE_URL (an
// HTTP server started with MCP_AUTH_TOKEN) and INTEROP_TOKEN (that token); both servers with a
// short MCP_CONFIRM_TIMEOUT.

import { createRequire } from 'node:module';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';

const { INTEROP_BINARY: binary, INTEROP_BASE_URL: base, INTEROP_TOKEN: token } = process.env;
if (!binary || !base || !token) {
  throw new Error('INTEROP_BINARY, INTEROP_BASE_URL and INTEROP_TOKEN must be set');
}

// The explicit check uses the Ajv that the SDK itself resolves, not whatever is hoisted, so both
// checks judge by the same rules and only the SDK's own wiring can differ.
const sdkRequire = createRequire(import.meta.resolve('@modelcontextprotocol/sdk/client/index.js'));
const sdkVersion = sdkRequire('../../../package.json').version;
const Ajv = sdkRequire('ajv').default;
const addFormats = sdkRequire('ajv-formats').default;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

const transports = {
  stdio: () => new StdioClientTransport({ command: binary, args: ['--sandbox'], env: { ...process.env }, stderr: 'inherit' }),
  streamable: (auth = token) =>
    new StreamableHTTPClientTransport(new URL('/mcp', base), { requestInit: { headers: { Authorization: `Bearer ${auth}` } } }),
  sse: (auth = token) => new SSEClientTransport(new URL('/sse', base), { requestInit: { headers: { Authorization: `Bearer ${auth}` } } }),
};

/**
 * countingValidator is the SDK's default validator, watched: it records each structuredContent the
 * Client checked on its own, which proves the SDK validates rather than trusting its source.
 */
function countingValidator(seen) {
  const inner = new AjvJsonSchemaValidator();
  return {
    getValidator(schema) {
      const validate = inner.getValidator(schema);
      return (input) => {
        const result = validate(input);
        seen.push({ input, valid: result.valid });
        return result;
      };
    },
  };
}

/** session runs every tool over one transport and returns what each call gave. */
async function session(name) {
  const seen = [];
  const client = new Client({ name: 'interop-ts', version: sdkVersion }, { jsonSchemaValidator: countingValidator(seen) });
  const out = { calls: [] };
  try {
    await client.connect(transports[name]());
    out.server = client.getServerVersion();
    const { tools } = await client.listTools();
    out.tools = tools.map((t) => t.name).sort();
    const schemas = Object.fromEntries(tools.map((t) => [t.name, t.outputSchema]));
    // A check that cannot fail proves nothing: the explicit Ajv must reject a wrong result.
    out.ajvRejectsBadOutput = schemas.send_message !== undefined && !ajv.validate(schemas.send_message, { chat_id: 'one' });

    const call = async (tool, args) => {
      const rec = { tool, args };
      out.calls.push(rec);
      const before = seen.length;
      try {
        const res = await client.callTool({ name: tool, arguments: args });
        rec.isError = res.isError === true;
        rec.text = res.content?.find((c) => c.type === 'text')?.text ?? '';
        rec.contents = (res.content ?? []).map((c) => (c.mimeType ? `${c.type}:${c.mimeType}` : c.type));
        rec.structured = res.structuredContent !== undefined;
        rec.sdkValidated = seen.slice(before).some((s) => s.valid && s.input === res.structuredContent);
        if (rec.structured) {
          if (!schemas[tool]) {
            rec.schemaErrors = ['the tool has no outputSchema'];
          } else {
            const validate = ajv.compile(schemas[tool]);
            rec.schemaErrors = validate(res.structuredContent) ? [] : validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`);
          }
          // The text is written for a model: not JSON, and naming every chat the result holds.
          const chats = [res.structuredContent.chat_id, ...(res.structuredContent.chats ?? []).map((c) => c.chat_id)];
          rec.textMatches = !rec.text.trimStart().startsWith('{') && chats.filter((id) => id !== undefined).every((id) => rec.text.includes(String(id)));
        }
        return res.structuredContent ?? {};
      } catch (err) {
        rec.error = String(err?.message ?? err);
        return {};
      }
    };

    await call('list_cabinets', {});
    const { chats = [] } = await call('list_chats', { statuses: ['WAITING_FOR_PARTNER'] });
    // An order's chat, so that create_chat has an order to open a chat about.
    const chat = chats.find((c) => c.context?.type === 'ORDER' && c.context.order_id) ?? chats[0];
    if (!chat) {
      out.error = 'list_chats found no chat waiting for the seller';
      return out;
    }
    const chat_id = chat.chat_id;
    await call('get_chat', { chat_id });
    const { messages = [] } = await call('get_history', { chat_id });
    const last = messages.at(-1);
    if (last) {
      const { message } = await call('get_message', { chat_id, message_id: last.message_id });
      out.messageMatches = message?.message_id === last.message_id && message?.text === last.text;
    }
    const withFile = messages.find((m) => m.attachments?.length);
    if (withFile) {
      await call('get_attachment', { chat_id, message_id: withFile.message_id, index: 0 });
      out.attachmentImage = out.calls.at(-1).contents?.includes('image:image/jpeg') === true;
    }
    const { cursor } = await call('wait_for_messages', { chat_id, timeout_seconds: 1 });
    out.waitCursor = typeof cursor === 'string' && cursor.length > 0;
    out.sentText = `Здравствуйте! Заказ передан в доставку (${name}), курьер привезёт его завтра.`;
    await call('send_message', { chat_id, message: out.sentText });
    const after = await call('get_history', { chat_id, message_id_from: last?.message_id ?? 1 });
    out.sentSeen = (after.messages ?? []).some((m) => m.text === out.sentText && m.sender === 'PARTNER');
    await call('send_file', {
      chat_id,
      file_name: 'накладная.txt',
      content_base64: Buffer.from(`Накладная к заказу ${chat.context?.order_id ?? ''}`).toString('base64'),
    });
    if (chat.context?.order_id) {
      const created = await call('create_chat', { order_id: chat.context.order_id });
      out.createdChat = { orderId: chat.context.order_id, chatId: created.chat_id, existingChatId: chat_id };
    }
    const empty = await client.callTool({ name: 'send_message', arguments: { chat_id, message: '' } }).catch((err) => ({ thrown: String(err?.message ?? err) }));
    out.emptyMessage = { isError: empty.isError === true, text: empty.content?.find((c) => c.type === 'text')?.text ?? empty.thrown ?? '' };
  } catch (err) {
    out.error = String(err?.stack ?? err);
  } finally {
    await client.close().catch(() => {});
  }
  return out;
}

/**
 * approvals sends through a Client that can ask the user (it declares elicitation) and answers
 * each question as the case says: accept as is, edit, decline, cancel, or never. The server is
 * run with a short MCP_CONFIRM_TIMEOUT, so that "never" ends soon.
 */
async function approvals(name) {
  let respond = () => ({ action: 'accept' });
  const questions = [];
  const client = new Client({ name: 'interop-ts-asking', version: sdkVersion }, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    questions.push(req.params);
    return respond(req.params);
  });
  const out = { protocol: '', cases: {} };
  try {
    await client.connect(transports[name]());
    out.protocol = client.transport?.protocolVersion ?? '';
    const { structuredContent: list } = await client.callTool({ name: 'list_chats', arguments: { statuses: ['WAITING_FOR_PARTNER'] } });
    const chat = list.chats.find((c) => c.context?.type === 'ORDER') ?? list.chats[0];
    const answers = {
      accept: () => ({ action: 'accept', content: { message: `Принято (${name})` } }),
      edit: () => ({ action: 'accept', content: { message: `Исправлено пользователем (${name})` } }),
      decline: () => ({ action: 'decline' }),
      cancel: () => ({ action: 'cancel' }),
      never: () => new Promise(() => {}),
    };
    for (const [kind, answer] of Object.entries(answers)) {
      respond = answer;
      const asked = questions.length;
      const message = kind === 'accept' ? `Принято (${name})` : `Черновик: ${kind} (${name})`;
      const res = await client.callTool({ name: 'send_message', arguments: { chat_id: chat.chat_id, message } });
      const q = questions[asked];
      out.cases[kind] = {
        asked: questions.length - asked,
        showsText: q?.message?.includes(message) === true,
        editable: q?.requestedSchema?.properties?.message?.default === message,
        isError: res.isError === true,
        approval: res.structuredContent?.approval ?? '',
        sentAt: res.structuredContent?.sent_at ?? '',
        text: res.content?.find((c) => c.type === 'text')?.text ?? '',
      };
    }
    const { structuredContent: history } = await client.callTool({ name: 'get_history', arguments: { chat_id: chat.chat_id, limit: 100 } });
    out.sellerTexts = history.messages.filter((m) => m.sender === 'PARTNER').map((m) => m.text);
  } catch (err) {
    out.error = String(err?.stack ?? err);
  } finally {
    await client.close().catch(() => {});
  }
  return out;
}

/** refused connects with a wrong token and reports how the server turned it away. */
async function refused(name) {
  const client = new Client({ name: 'interop-ts-wrong-token', version: sdkVersion });
  try {
    await client.connect(transports[name]('wrong-token'));
    await client.listTools();
    return { refused: false };
  } catch (err) {
    return { refused: true, status: err?.code, error: String(err?.message ?? err) };
  } finally {
    await client.close().catch(() => {});
  }
}

const summary = { sdkVersion, node: process.version, transports: {}, approvals: {}, wrongToken: {} };
for (const name of Object.keys(transports)) {
  summary.transports[name] = await session(name);
}
for (const name of Object.keys(transports)) {
  summary.approvals[name] = await approvals(name);
}
for (const name of ['streamable', 'sse']) {
  summary.wrongToken[name] = await refused(name);
}
process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
