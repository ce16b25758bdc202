// `nori flower` answers: without credentials 401, with them /api/workers lists the worker that
// the `nori` bin runs with its task registered, and / serves the page.
// Usage: node flower.mjs <flower url> <worker node name>; the credentials in NORI_CHECK_FLOWER_AUTH.
/* global fetch */
const [url, node] = process.argv.slice(2);
const authorization = `Basic ${Buffer.from(process.env.NORI_CHECK_FLOWER_AUTH).toString('base64')}`;

const anonymous = await fetch(`${url}/api/workers`);
if (anonymous.status !== 401) throw new Error(`GET /api/workers without credentials: ${anonymous.status}, expected 401`);

const response = await fetch(`${url}/api/workers?refresh=1`, { headers: { authorization } });
if (response.status !== 200) throw new Error(`GET /api/workers: ${response.status} ${await response.text()}`);
const workers = await response.json();
const registered = workers[node]?.registered ?? [];
if (!registered.includes('check.add')) throw new Error(`GET /api/workers: no ${node} with check.add registered in ${JSON.stringify(workers).slice(0, 500)}`);

const page = await fetch(`${url}/`, { headers: { authorization } });
if (page.status !== 200 || !(await page.text()).includes('<html')) throw new Error(`GET /: ${page.status}`);
console.log(`ok: nori flower: 401 without credentials; /api/workers lists ${node} with check.add; / serves the page`);
