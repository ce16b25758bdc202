/**
 * The page: one HTML document for every view (Flower's paths), its stylesheet, and its script, the
 * ES modules compiled from ./client (plain DOM, a hand-drawn SVG chart; text only ever set as
 * text). All of it comes from this server: the Content-Security-Policy lets the page load nothing
 * else, run nothing inline, and talk only to its server.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The paths that show the page (Flower's views). */
export const PAGE_PATH = /^\/(?:workers|tasks|broker|beat|dlq|worker\/.+|task\/.+|dlq\/.+)?$/;

const STYLE = `
:root{--bg:#f6f7f9;--fg:#1d2430;--mut:#6b7380;--line:#dde1e7;--ok:#1f8a4c;--bad:#c0392b;--run:#1f6fd1;--warn:#b7791f}
*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}
body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:6px 18px;padding:10px 16px;background:#18202c;color:#fff}
header .brand{font-size:17px;font-weight:600;color:#fff;text-decoration:none}
nav{display:flex;flex-wrap:wrap;gap:4px}nav a{color:#cfd6e0;text-decoration:none;padding:4px 10px;border-radius:4px;white-space:nowrap}
@media (max-width:480px){nav a{padding:4px 7px}}nav a.here,nav a:hover{background:#2c3748;color:#fff}
#status{margin-left:auto;font-size:12px;color:#aab3c0;display:flex;gap:10px}
main{max-width:1400px;margin:0 auto;padding:12px 16px 40px}
h1{font-size:20px;margin:8px 0 12px;display:flex;flex-wrap:wrap;align-items:center;gap:8px;word-break:break-all}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:12px 14px;margin-bottom:14px;min-width:0}
h2{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--mut);margin:0 0 8px}
a{color:var(--run)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{width:100%;border-collapse:collapse;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);white-space:nowrap;max-width:320px;overflow:hidden;text-overflow:ellipsis;vertical-align:top}
th{color:var(--mut);font-weight:600}td.num,th.num{text-align:right}td.wrap,.wrap{white-space:pre-wrap;word-break:break-all;max-width:none}
tr.task:hover,tr.worker:hover{background:#f0f4fa}.id{font-family:ui-monospace,Menlo,monospace;font-size:12px}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;font-size:11px;font-weight:600;color:#fff;background:var(--mut)}
.SUCCESS,.online{background:var(--ok)}.FAILURE,.offline{background:var(--bad)}.STARTED{background:var(--run)}
.RECEIVED,.PENDING{background:#7a8596}.RETRY,.REVOKED,.REJECTED{background:var(--warn)}.reported{background:var(--run)}
.progress{display:inline-flex;gap:6px;align-items:center;margin-left:6px;font-size:12px}.progress progress{width:80px}
.filters,.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:8px 0}.filters input[type=search]{flex:1 1 260px;min-width:0}
input,select,button{font:inherit;padding:5px 8px;border:1px solid var(--line);border-radius:4px;background:#fff;color:var(--fg);max-width:100%}
input.small{width:90px}button{cursor:pointer;background:#eef2f7}button:hover{background:#e2e8f0}button:disabled{cursor:default;opacity:.5}
button.danger{background:#fbeaea;border-color:#f0c4c4;color:var(--bad)}button.link{border:0;background:none;padding:0;color:var(--mut);font-weight:600}header button.link{color:#cfd6e0;font-size:12px}
.sep{width:1px;align-self:stretch;background:var(--line)}
.pager{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin-top:10px}
.chart{position:relative}.chart span{position:absolute;font-size:11px;line-height:14px;color:var(--mut)}#chart{display:block;width:100%;height:150px}
tr:has(button,input)>td{vertical-align:middle}td .controls{margin:0}
dl.fields{display:grid;grid-template-columns:minmax(90px,160px) 1fr;gap:4px 14px;margin:0 0 8px;font-size:13px}
dt{color:var(--mut)}dd{margin:0;word-break:break-all;white-space:pre-wrap;font-family:ui-monospace,Menlo,monospace;font-size:12px}
pre{margin:8px 0 0;padding:8px;background:#f6f8fa;border-radius:4px;overflow-x:auto;font-size:12px}
.mut{color:var(--mut)}.error{color:var(--bad)}.ok{color:var(--ok)}#notice p{margin:0 0 10px;font-weight:600}
@media (max-width:640px){header{padding:8px 10px}main{padding:8px 8px 30px}section{padding:10px}dl.fields{grid-template-columns:1fr}dt{margin-top:4px}#status{margin-left:0;width:100%}}
`;

export const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>nori flower</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/static/page.css">
<script type="module" src="/static/main.js"></script></head>
<body><header><a class="brand" href="/" data-nav>nori flower</a>
<nav><a href="/workers" data-nav data-section="workers">Workers</a><a href="/tasks" data-nav data-section="tasks">Tasks</a><a href="/broker" data-nav data-section="broker">Broker</a><a href="/beat" data-nav data-section="beat">Beat</a><a href="/dlq" data-nav data-section="dlq">Dead letters</a></nav>
<span id="status"><span id="mode"></span><span id="user"></span><span id="live">connecting…</span></span></header>
<main><div id="notice" role="status"></div><div id="view"></div></main></body></html>`;

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** `/static/<name>`: the stylesheet and the client's modules (compiled beside this file), read once. */
export function staticFiles(): ReadonlyMap<string, { type: string; body: string }> {
  const dir = new URL('./client/', import.meta.url);
  const files = new Map([['page.css', { type: 'text/css; charset=utf-8', body: STYLE }]]);
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    files.set(name, { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL(name, dir), 'utf8') });
  }
  return files;
}
