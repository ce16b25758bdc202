/**
 * The dashboard: one HTML document with its CSS and script inline (nothing fetched from elsewhere),
 * plain DOM and a hand-drawn SVG chart. Live from `/dashboard/events` (server-sent events); the
 * data it starts from comes from `/dashboard/workers` and Flower's `/api/tasks`. Text from events
 * goes into the page only through textContent.
 */
import { createHash } from 'node:crypto';
const STYLE = `
:root{--bg:#f6f7f9;--fg:#1d2430;--mut:#6b7380;--line:#dde1e7;--ok:#1f8a4c;--bad:#c0392b;--run:#1f6fd1;--warn:#b7791f}
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;align-items:center;gap:16px;padding:10px 20px;background:#18202c;color:#fff}header h1{font-size:17px;margin:0}
header .sub{color:#aab3c0;font-size:12px}#live{margin-left:auto;font-size:12px;color:#aab3c0}
main{display:grid;grid-template-columns:minmax(320px,1fr) 2fr;gap:16px;padding:16px 20px}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:12px 14px;min-width:0}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:var(--mut);margin:0 0 8px}
table{width:100%;border-collapse:collapse;font-size:13px}th,td{text-align:left;padding:5px 6px;border-bottom:1px solid var(--line);white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:260px}
th{color:var(--mut);font-weight:600}tr.task{cursor:pointer}tr.task:hover{background:#f0f4fa}tr.sel{background:#e6eefb}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:11px;font-weight:600;color:#fff;background:var(--mut)}
.SUCCESS,.online{background:var(--ok)}.FAILURE,.offline{background:var(--bad)}.STARTED{background:var(--run)}.RECEIVED,.PENDING{background:#7a8596}.RETRY,.REVOKED,.REJECTED{background:var(--warn)}
.filters{display:flex;gap:8px;margin-bottom:8px}.filters input{flex:1}input,select,button{font:inherit;padding:4px 6px;border:1px solid var(--line);border-radius:4px;background:#fff}
button{cursor:pointer}#chart{width:100%;height:150px}.wide{grid-column:1/-1}#detail dl{display:grid;grid-template-columns:140px 1fr;gap:4px 12px;margin:0;font-size:13px}
#detail h2{text-transform:none}#detail dt{color:var(--mut)}#detail dd{margin:0;word-break:break-all;white-space:pre-wrap;font-family:ui-monospace,Menlo,monospace;font-size:12px}.mut{color:var(--mut)}
`;

const SCRIPT = `
const TYPE_STATE={'task-sent':'PENDING','task-received':'RECEIVED','task-started':'STARTED','task-succeeded':'SUCCESS','task-failed':'FAILURE','task-retried':'RETRY','task-revoked':'REVOKED','task-rejected':'REJECTED'};
const READY=new Set(['SUCCESS','FAILURE','REVOKED','REJECTED']);
const workers=new Map(),tasks=new Map(),done=new Map();let config={readOnly:true,backend:false},selected=null,scheduled=false;
const $=(s)=>document.querySelector(s);
function h(tag,attrs,...kids){const e=document.createElement(tag);for(const[k,v]of Object.entries(attrs||{})){if(k==='class')e.className=v;else if(k.startsWith('on'))e.addEventListener(k.slice(2),v);else e.setAttribute(k,v)}for(const k of kids)e.append(k instanceof Node?k:document.createTextNode(k==null?'':String(k)));return e}
async function api(path,init){const r=await fetch(path,init);if(!r.ok)throw new Error(path+': HTTP '+r.status);return r.json()}
const time=(s)=>s?new Date(s*1000).toLocaleTimeString():'';
function alive(w){return w.online&&Date.now()-w.seen<=w.freq*2000}
function onEvent(e){
  if(e.type.startsWith('worker-')){const w=workers.get(e.hostname)||{hostname:e.hostname,freq:2,online:false,seen:0};
    if(typeof e.freq==='number')w.freq=e.freq;if(typeof e.active==='number')w.active=e.active;if(typeof e.processed==='number')w.processed=e.processed;if(Array.isArray(e.loadavg))w.loadavg=e.loadavg;if(e.sw_ident)w.sw=e.sw_ident;
    w.online=e.type!=='worker-offline';w.seen=Date.now();workers.set(e.hostname,w);}
  else if(e.type.startsWith('task-')&&e.uuid){const t=tasks.get(e.uuid)||{uuid:e.uuid,state:'PENDING'};tasks.delete(e.uuid);tasks.set(e.uuid,t);
    const s=TYPE_STATE[e.type]||t.state;if(!READY.has(t.state)||READY.has(s))t.state=s;
    for(const k of['name','args','kwargs','result','exception','runtime'])if(e[k]!=null)t[k]=e[k];
    if(e.type!=='task-sent')t.worker=e.hostname;if(e.type==='task-received')t.received=e.timestamp;t.timestamp=e.timestamp;
    if(e.type==='task-succeeded'||e.type==='task-failed'){const sec=Math.floor(Date.now()/1000);done.set(sec,(done.get(sec)||0)+1)}
    if(selected===e.uuid)showDetail(e.uuid);}
  schedule();}
function schedule(){if(!scheduled){scheduled=true;requestAnimationFrame(()=>{scheduled=false;render()})}}
function render(){renderWorkers();renderTasks();renderChart()}
function renderWorkers(){const body=$('#workers tbody');body.replaceChildren(...[...workers.values()].map((w)=>{const on=alive(w);
  return h('tr',{class:'worker','data-hostname':w.hostname},h('td',{},w.hostname),h('td',{},h('span',{class:'badge '+(on?'online':'offline')},on?'online':'offline')),h('td',{},w.active??''),h('td',{},w.processed??''),h('td',{},(w.loadavg||[]).map((n)=>n.toFixed(1)).join(' ')))}));
  if(!workers.size)body.append(h('tr',{},h('td',{colspan:5,class:'mut'},'No worker seen yet (start one with -E, or wait for its heartbeat)')));$('#worker-count').textContent=String([...workers.values()].filter(alive).length);}
function renderTasks(){const st=$('#state-filter').value,nm=$('#name-filter').value,q=$('#search').value.trim().toLowerCase();
  const names=new Set([...tasks.values()].map((t)=>t.name).filter(Boolean));const sel=$('#name-filter');const have=new Set([...sel.options].map((o)=>o.value));
  for(const n of names)if(!have.has(n))sel.append(h('option',{value:n},n));
  const rows=[...tasks.values()].reverse().filter((t)=>(st==='All'||t.state===st)&&(nm==='All'||t.name===nm)&&(!q||t.uuid.toLowerCase().includes(q))).slice(0,200);
  $('#tasks tbody').replaceChildren(...rows.map((t)=>h('tr',{class:'task'+(t.uuid===selected?' sel':''),'data-id':t.uuid,onclick:()=>showDetail(t.uuid)},
    h('td',{},h('span',{class:'badge '+t.state},t.state)),h('td',{},t.name||''),h('td',{class:'mut'},t.uuid),h('td',{},t.args||''),h('td',{},t.result??t.exception??''),h('td',{},t.worker||''),h('td',{},time(t.received)),h('td',{},t.runtime!=null?(t.runtime<1?(t.runtime*1000).toFixed(1)+' ms':t.runtime.toFixed(2)+' s'):''))));
  $('#task-count').textContent=String(tasks.size);}
function renderChart(){const now=Math.floor(Date.now()/1000),W=600,H=150,P=28,pts=[];let max=1;
  for(let i=59;i>=0;i--){const v=done.get(now-i)||0;max=Math.max(max,v);pts.push(v)}for(const k of done.keys())if(k<now-120)done.delete(k);
  const x=(i)=>P+(i*(W-P-6))/59,y=(v)=>H-18-(v*(H-30))/max;const svg=$('#chart');const ns='http://www.w3.org/2000/svg';const el=(n,a)=>{const e=document.createElementNS(ns,n);for(const[k,v]of Object.entries(a))e.setAttribute(k,v);return e};
  const line=el('polyline',{points:pts.map((v,i)=>x(i)+','+y(v)).join(' '),fill:'none',stroke:'#1f6fd1','stroke-width':'2'});
  const area=el('polygon',{points:x(0)+','+y(0)+' '+pts.map((v,i)=>x(i)+','+y(v)).join(' ')+' '+x(59)+','+y(0),fill:'#1f6fd122'});
  const lab=(t,a)=>{const e=el('text',Object.assign({'font-size':'10',fill:'#6b7380'},a));e.textContent=t;return e};
  svg.replaceChildren(el('line',{x1:P,y1:y(0),x2:W-6,y2:y(0),stroke:'#dde1e7'}),area,line,lab(String(max),{x:2,y:y(max)+4}),lab('0',{x:2,y:y(0)+4}),lab('60 s ago',{x:P,y:H-2}),lab('now',{x:W-28,y:H-2}));
  $('#rate').textContent=String(pts.slice(-10).reduce((a,b)=>a+b,0)/10)+' tasks/s (last 10 s)';}
async function showDetail(id){selected=id;schedule();const box=$('#detail');
  try{const info=await api('/api/task/info/'+encodeURIComponent(id));const dl=h('dl',{});
    for(const k of['uuid','name','state','worker','args','kwargs','result','exception','received','started','succeeded','failed','runtime','retries','root_id','parent_id','eta','expires','traceback']){if(info[k]==null)continue;
      dl.append(h('dt',{},k),h('dd',{'data-field':k},['received','started','succeeded','failed'].includes(k)?new Date(info[k]*1000).toISOString():typeof info[k]==='string'?info[k]:JSON.stringify(info[k])))}
    const kids=[h('h2',{},'Task '+id),dl];
    if(config.backend){try{const r=await api('/api/task/result/'+encodeURIComponent(id));dl.append(h('dt',{},'stored result'),h('dd',{'data-field':'stored-result'},JSON.stringify(r.result)))}catch(e){}}
    if(!config.readOnly&&!READY.has(info.state))kids.push(h('button',{onclick:async()=>{await api('/api/task/revoke/'+encodeURIComponent(id)+'?terminate=true',{method:'POST'});showDetail(id)}},'Revoke'));
    box.replaceChildren(...kids)}catch(e){box.replaceChildren(h('h2',{},'Task '+id),h('p',{class:'mut'},'Not known yet'))}}
async function start(){config=await api('/dashboard/config');
  for(const w of await api('/dashboard/workers'))workers.set(w.hostname,{hostname:w.hostname,freq:2,online:w.alive,seen:w.alive?Date.now():0,active:w.active,processed:w.processed,loadavg:w.loadavg});
  const list=await api('/api/tasks?limit=500');for(const t of Object.values(list).reverse())tasks.set(t.uuid,t);
  $('#mode').textContent=config.readOnly?'read-only':'';
  for(const id of['#state-filter','#name-filter'])$(id).addEventListener('change',schedule);$('#search').addEventListener('input',schedule);
  const es=new EventSource('/dashboard/events');es.onmessage=(m)=>onEvent(JSON.parse(m.data));es.onopen=()=>{$('#live').textContent='live'};es.onerror=()=>{$('#live').textContent='reconnecting…'};
  setInterval(schedule,1000);render()}
start();
`;

export const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>nori flower</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><header><h1>nori flower</h1><span class="sub">workers online: <span id="worker-count">0</span> · tasks: <span id="task-count">0</span> · <span id="mode"></span></span><span id="live">connecting…</span></header>
<main>
<section><h2>Workers</h2><table id="workers"><thead><tr><th>Worker</th><th>Status</th><th>Active</th><th>Processed</th><th>Load</th></tr></thead><tbody></tbody></table></section>
<section><h2>Throughput <span id="rate" class="mut"></span></h2><svg id="chart" viewBox="0 0 600 150" preserveAspectRatio="none" role="img" aria-label="tasks finished per second"></svg></section>
<section class="wide"><h2>Tasks</h2><div class="filters"><select id="state-filter"><option>All</option><option>PENDING</option><option>RECEIVED</option><option>STARTED</option><option>SUCCESS</option><option>FAILURE</option><option>RETRY</option><option>REVOKED</option><option>REJECTED</option></select>
<select id="name-filter"><option>All</option></select><input id="search" type="search" placeholder="Search by task id"></div>
<table id="tasks"><thead><tr><th>State</th><th>Name</th><th>Id</th><th>Args</th><th>Result</th><th>Worker</th><th>Received</th><th>Runtime</th></tr></thead><tbody></tbody></table></section>
<section class="wide" id="detail"><h2>Task detail</h2><p class="mut">Click a task.</p></section>
</main><script>${SCRIPT}</script></body></html>`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The page runs its own inline script and style and talks only to its server. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
