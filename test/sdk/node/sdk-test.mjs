// LINE's Node SDK (@line/bot-sdk), unmodified but for its baseURL, against
// `linectl serve`: run by test/e2e/botapi_sdk_node_test.go, which reads the
// JSON lines this prints. Environment: LINECTL_URL, TOKEN, SECRET,
// HOOK_PORT (this script's webhook), TO (a user), ALSO (another user).
import http from "node:http";
import { messagingApi, validateSignature, HTTPFetchError } from "@line/bot-sdk";

const { LINECTL_URL, TOKEN, SECRET, HOOK_PORT, TO, ALSO } = process.env;
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const client = new messagingApi.MessagingApiClient({ channelAccessToken: TOKEN, baseURL: LINECTL_URL });
const blob = new messagingApi.MessagingApiBlobClient({ channelAccessToken: TOKEN, baseURL: LINECTL_URL });

async function status(p) {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof HTTPFetchError) return e.status;
    throw e;
  }
}

const events = [];
let badSignatures = 0;
const hook = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    if (!validateSignature(body, SECRET, req.headers["x-line-signature"] || "")) {
      badSignatures++;
      res.writeHead(400).end();
      return;
    }
    events.push(...JSON.parse(body.toString("utf8")).events);
    res.writeHead(200).end();
  });
});
await new Promise((ok) => hook.listen(Number(HOOK_PORT), "127.0.0.1", ok));

const key = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
const push = { to: TO, messages: [{ type: "text", text: "from the Node SDK" }] };
const first = await client.pushMessageWithHttpInfo(push, key);
say({ step: "push", status: first.httpResponse.status, sentMessages: first.body.sentMessages });
let again = 0, accepted = "";
try {
  await client.pushMessage(push, key);
} catch (e) {
  again = e.status;
  accepted = e.headers.get("x-line-accepted-request-id") || "";
}
say({ step: "retry", status: again, accepted, requestId: first.httpResponse.headers.get("x-line-request-id") });
say({ step: "multicast", status: await status(client.multicast({ to: [TO, ALSO], messages: [{ type: "text", text: "Node multicast" }] })) });
const profile = await client.getProfile(ALSO);
say({ step: "profile", displayName: profile.displayName, userId: profile.userId });
const six = Array.from({ length: 6 }, (_, i) => ({ type: "text", text: "n" + i }));
say({ step: "bad", six: await status(client.pushMessage({ to: TO, messages: six })),
  long: await status(client.pushMessage({ to: TO, messages: [{ type: "text", text: "x".repeat(5001) }] })),
  unknownMid: await status(client.pushMessage({ to: "u0123456789abcdef0123456789abcdef", messages: [{ type: "text", text: "who" }] })),
  unknownToken: await status(new messagingApi.MessagingApiClient({ channelAccessToken: "nope", baseURL: LINECTL_URL }).getBotInfo()) });

say({ step: "ready" });
const deadline = Date.now() + 30000;
let text, image;
while ((!text || !image) && Date.now() < deadline) {
  text = events.find((e) => e.type === "message" && e.message.type === "text" && e.message.text === "ping");
  image = events.find((e) => e.type === "message" && e.message.type === "image");
  await new Promise((ok) => setTimeout(ok, 20));
}
if (!text || !image) {
  say({ step: "timeout", events, badSignatures });
  process.exit(1);
}
const reply = await client.replyMessage({ replyToken: text.replyToken, messages: [{ type: "text", text: "pong from Node" }] });
const stream = await blob.getMessageContent(image.message.id);
const parts = [];
for await (const c of stream) parts.push(c);
say({ step: "done", replySent: reply.sentMessages.length, quoteToken: text.message.quoteToken, source: text.source,
  content: Buffer.concat(parts).toString("base64"), badSignatures });
hook.close();
