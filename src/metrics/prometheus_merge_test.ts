import assert from "node:assert/strict";
import { escapeLabelValue, mergeByWorker } from "./prometheus_merge.ts";

const W0 = `# HELP jim_connections Open connections by protocol.
# TYPE jim_connections gauge
jim_connections{protocol="tcp"} 3
jim_connections{protocol="ws"} 1
# HELP jim_messages_received_total Chat messages received.
# TYPE jim_messages_received_total counter
jim_messages_received_total 10
# HELP jim_delivery_latency_seconds From arrival to delivery.
# TYPE jim_delivery_latency_seconds histogram
jim_delivery_latency_seconds_bucket{le="0.001"} 1
jim_delivery_latency_seconds_bucket{le="+Inf"} 2
jim_delivery_latency_seconds_sum 0.5
jim_delivery_latency_seconds_count 2
# HELP jim_errors_total Errors by code.
# TYPE jim_errors_total counter
jim_errors_total{code="a \\"quoted\\" {brace}, \\\\ and\\nline"} 4
# HELP jim_build_info Versions, with a \\\\ and a \\n in the help.
# TYPE jim_build_info gauge
jim_build_info{version="1.0",deno="2.9.6"} 1
`;

const W1 = `# HELP jim_connections Open connections by protocol.
# TYPE jim_connections gauge
jim_connections{protocol="tcp"} 5
jim_connections{protocol="ws"} 0
# HELP jim_messages_received_total Chat messages received.
# TYPE jim_messages_received_total counter
jim_messages_received_total 7
# HELP jim_delivery_latency_seconds From arrival to delivery.
# TYPE jim_delivery_latency_seconds histogram
jim_delivery_latency_seconds_bucket{le="0.001"} 0
jim_delivery_latency_seconds_bucket{le="+Inf"} 1
jim_delivery_latency_seconds_sum 0.25
jim_delivery_latency_seconds_count 1
# HELP jim_errors_total Errors by code.
# TYPE jim_errors_total counter
# HELP jim_build_info Versions, with a \\\\ and a \\n in the help.
# TYPE jim_build_info gauge
jim_build_info{version="1.0",deno="2.9.6"} 1
`;

Deno.test("mergeByWorker: each family once, samples of every worker together, a worker label on each", () => {
  const merged = mergeByWorker([{ worker: "w0", text: W0 }, { worker: "w1", text: W1 }]);
  assert.equal(
    merged,
    `# HELP jim_connections Open connections by protocol.
# TYPE jim_connections gauge
jim_connections{protocol="tcp",worker="w0"} 3
jim_connections{protocol="ws",worker="w0"} 1
jim_connections{protocol="tcp",worker="w1"} 5
jim_connections{protocol="ws",worker="w1"} 0
# HELP jim_messages_received_total Chat messages received.
# TYPE jim_messages_received_total counter
jim_messages_received_total{worker="w0"} 10
jim_messages_received_total{worker="w1"} 7
# HELP jim_delivery_latency_seconds From arrival to delivery.
# TYPE jim_delivery_latency_seconds histogram
jim_delivery_latency_seconds_bucket{le="0.001",worker="w0"} 1
jim_delivery_latency_seconds_bucket{le="+Inf",worker="w0"} 2
jim_delivery_latency_seconds_sum{worker="w0"} 0.5
jim_delivery_latency_seconds_count{worker="w0"} 2
jim_delivery_latency_seconds_bucket{le="0.001",worker="w1"} 0
jim_delivery_latency_seconds_bucket{le="+Inf",worker="w1"} 1
jim_delivery_latency_seconds_sum{worker="w1"} 0.25
jim_delivery_latency_seconds_count{worker="w1"} 1
# HELP jim_errors_total Errors by code.
# TYPE jim_errors_total counter
jim_errors_total{code="a \\"quoted\\" {brace}, \\\\ and\\nline",worker="w0"} 4
# HELP jim_build_info Versions, with a \\\\ and a \\n in the help.
# TYPE jim_build_info gauge
jim_build_info{version="1.0",deno="2.9.6",worker="w0"} 1
jim_build_info{version="1.0",deno="2.9.6",worker="w1"} 1
`,
  );
});

Deno.test("mergeByWorker: families in a different order per text, or only in some, still come out once", () => {
  const a = `# TYPE x counter
x 1
# TYPE h histogram
h_bucket{le="+Inf"} 1
h_sum 2
h_count 1
`;
  // y only here; h before x; a sample line with a timestamp; empty and trailing-comma label sets.
  const b = `# TYPE h histogram
h_bucket{le="+Inf",} 3
h_sum 4 1700000000000
h_count{} 3
# TYPE y gauge
y 9
# TYPE x counter
x 2
`;
  const merged = mergeByWorker([{ worker: "w0", text: a }, { worker: "w1", text: b }]);
  assert.equal(
    merged,
    `# TYPE x counter
x{worker="w0"} 1
x{worker="w1"} 2
# TYPE h histogram
h_bucket{le="+Inf",worker="w0"} 1
h_sum{worker="w0"} 2
h_count{worker="w0"} 1
h_bucket{le="+Inf",worker="w1"} 3
h_sum{worker="w1"} 4 1700000000000
h_count{worker="w1"} 3
# TYPE y gauge
y{worker="w1"} 9
`,
  );
  const types = [...merged.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(types, ["x", "h", "y"]);
});

Deno.test("mergeByWorker: a counter named like a histogram part is its own family; untyped samples kept", () => {
  // `req_count` is a gauge of its own, not part of a `req` family (which is not a histogram).
  const text = `# TYPE req counter
req 1
# TYPE req_count gauge
req_count 5
loose_sample{a="1"} 2
`;
  const merged = mergeByWorker([{ worker: "w0", text }, { worker: "w1", text }]);
  assert.equal(
    merged,
    `# TYPE req counter
req{worker="w0"} 1
req{worker="w1"} 1
# TYPE req_count gauge
req_count{worker="w0"} 5
req_count{worker="w1"} 5
loose_sample{a="1",worker="w0"} 2
loose_sample{a="1",worker="w1"} 2
`,
  );
});

Deno.test("mergeByWorker: worker ids are escaped as label values; nothing in, nothing out", () => {
  assert.equal(mergeByWorker([{ worker: 'odd"\\id', text: "m 1\n" }]), 'm{worker="odd\\"\\\\id"} 1\n');
  assert.equal(mergeByWorker([]), "");
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
});
