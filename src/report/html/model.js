// The one place that reads the results document. Everything below it
// (charts.js, page.js) sees only the model built here, so a field that is
// renamed, added or missing is handled once, here. Every field is treated
// as optional: an older run, a cell that could not run or a runtime that
// measures less must draw what it has, never throw.

function asObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? value : {};
}

function asArray(value) {
  return Array.isArray(value) ? value : [];
}

function asNumber(value) {
  return typeof value === "number" && isFinite(value) ? value : null;
}

function asCount(value) {
  var number = asNumber(value);
  return number === null || number < 0 ? 0 : number;
}

// Where a cell's requests went (the client's account matched with the
// application's log), or null.
function readFunnel(value) {
  if (!value || typeof value !== "object") {
    return null;
  }
  var stages = function (raw) {
    raw = asObject(raw);
    return {
      sent: asCount(raw.sent),
      connected: asCount(raw.connected),
      reached: asCount(raw.reached),
      finished: asCount(raw.finished),
      cameBack: asCount(raw.came_back),
      waitingAtEnd: asCount(raw.waiting_at_end),
    };
  };
  var places = function (raw) {
    raw = asObject(raw);
    return {
      refused: asCount(raw.refused),
      before: asCount(raw.before_application),
      inside: asCount(raw.inside_application),
      wayBack: asCount(raw.on_the_way_back),
    };
  };
  return {
    all: stages(value.all),
    innocent: stages(value.innocent),
    lost: places(value.lost),
    innocentLost: places(value.innocent_lost),
    unmatched: asCount(value.answered_unseen) + asCount(value.unknown_to_client) + asCount(value.bad_lines),
  };
}

function asText(value) {
  if (typeof value === "string") {
    return value;
  }
  if (typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  return null;
}

// A value of unknown shape (a field from a newer labour) as one line.
function asLine(value) {
  var text = asText(value);
  if (text !== null || value === null || value === undefined) {
    return text;
  }
  try {
    return JSON.stringify(value);
  } catch (error) {
    return String(value);
  }
}

// `Name?key=value&...` for a behaviour written as an object ({name, ...}).
function behaviourText(value) {
  var text = asText(value);
  if (text !== null) {
    return text;
  }
  var object = asObject(value);
  var name = asText(object.name) || "?";
  var params = Object.keys(object)
    .filter(function (key) {
      return key !== "name" && object[key] !== null && object[key] !== undefined;
    })
    .map(function (key) {
      return key + "=" + asLine(object[key]);
    });
  return params.length ? name + "?" + params.join("&") : name;
}

function readLatency(value) {
  var latency = asObject(value);
  var count = asCount(latency.count);
  if (count === 0) {
    return null;
  }
  return {
    count: count,
    mean: asNumber(latency.mean_ms),
    p50: asNumber(latency.p50_ms),
    p90: asNumber(latency.p90_ms),
    p99: asNumber(latency.p99_ms),
    p999: asNumber(latency.p999_ms),
    max: asNumber(latency.max_ms),
  };
}

function readEvent(value) {
  var event = asObject(value);
  return {
    at: asNumber(event.at_secs),
    phase: asText(event.phase),
    action: (asText(event.action) || "event").toLowerCase(),
    exitCode: asNumber(event.exit_code),
    signal: asText(event.signal),
    logTail: asArray(event.log_tail).map(asLine),
  };
}

// Planned faults (a newer labour injects them): an instant or a stretch.
function readFault(value) {
  var fault = asObject(value);
  return {
    at: asNumber(fault.at_secs),
    until: asNumber(fault.until_secs),
    action: asText(fault.action) || "fault",
    target: asLine(fault.target),
  };
}

function readDurability(value) {
  var durability = asObject(value);
  return {
    dies: asCount(durability.dies),
    oomKills: asCount(durability.oom_kills),
    restarts: asCount(durability.restarts),
    restartCount: asNumber(durability.restart_count),
    recoveries: asArray(durability.recoveries).map(function (value) {
      var recovery = asObject(value);
      return {
        diedAt: asNumber(recovery.died_at_secs),
        exitCode: asNumber(recovery.exit_code),
        after: asNumber(recovery.recovered_after_secs),
      };
    }),
    recoverMedian: asNumber(durability.time_to_recover_median_secs),
    recoverMax: asNumber(durability.time_to_recover_max_secs),
    downtime: asNumber(durability.downtime_secs),
    outages: asCount(durability.outages),
    outageList: asArray(durability.outage_list)
      .map(function (value) {
        var outage = asObject(value);
        return {
          from: asNumber(outage.from_secs),
          to: asNumber(outage.to_secs),
          untilEnd: outage.until_end === true,
        };
      })
      .filter(function (outage) {
        return outage.from !== null && outage.to !== null;
      }),
    downAt: asNumber(durability.down_at_secs),
    unresponsiveSince: asNumber(durability.unresponsive_since_secs),
  };
}

function readResources(value) {
  var resources = asObject(value);
  return {
    samples: asArray(resources.samples)
      .map(function (value) {
        var sample = asObject(value);
        return {
          at: asNumber(sample.at_secs),
          memoryBytes: asNumber(sample.memory_bytes),
          cpuPercent: asNumber(sample.cpu_percent),
        };
      })
      .filter(function (sample) {
        return sample.at !== null;
      }),
    peakBytes: asNumber(resources.memory_peak_bytes),
    maxSampledBytes: asNumber(resources.memory_max_sampled_bytes),
    cpuMean: asNumber(resources.cpu_mean_percent),
    cpuMax: asNumber(resources.cpu_max_percent),
  };
}

// The heatmap's kind when Rust's texts are missing: the same rule.
function fallbackKind(status, requests, ratio, failedAbove) {
  var fixed = {
    error: "error",
    skipped: "skipped",
    preflight_failed: "preflight_failed",
    server_down: "server_down",
    unresponsive: "unresponsive",
    engine_lost: "engine_lost",
    no_load: "no_load",
    fault_late: "fault_late",
  };
  if (fixed[status]) {
    return fixed[status];
  }
  if (status === "interrupted") {
    return requests > 0 && ratio !== null && ratio > failedAbove ? "failed" : "interrupted";
  }
  if (status !== "completed") {
    return "unknown";
  }
  if (requests === 0) {
    return "no_load";
  }
  return ratio !== null && ratio > failedAbove ? "failed" : "ok";
}

function readCell(value, index, textsValue, failedAbove) {
  var cell = asObject(value);
  var texts = asObject(textsValue);
  var timeline = asObject(cell.timeline);
  var latency = asObject(cell.latency);
  var client = asObject(cell.client);
  var error = cell.error ? asObject(cell.error) : null;
  var requests = asCount(cell.requests);
  var status = asText(cell.status) || "unknown";
  var failureRatio = asNumber(cell.failure_ratio);
  var innocentRatio = asNumber(cell.innocent_failure_ratio);
  var rps = asNumber(cell.requests_per_sec);
  // As the table report: from the intended start when the load was open loop.
  var corrected = readLatency(latency.innocent_corrected) || readLatency(latency.misbehaving_corrected);
  return {
    index: index,
    anchor: "cell-" + index,
    server: asText(cell.server) || "?",
    serverVersion: asText(cell.server_version),
    python: asText(cell.python),
    test: asText(cell.test) || "?",
    status: status,
    kind: asText(texts.kind) || fallbackKind(status, requests, failureRatio, failedAbove),
    verdict: asText(texts.verdict),
    failurePercent:
      asText(texts.failure_percent) || (failureRatio === null ? null : (failureRatio * 100).toFixed(2)),
    innocentPercent:
      asText(texts.innocent_percent) || (innocentRatio === null ? null : (innocentRatio * 100).toFixed(2)),
    requestsPerSec: asText(texts.requests_per_sec) || (rps === null ? null : rps.toFixed(2)),
    failureRatio: failureRatio,
    innocentRatio: innocentRatio,
    requests: requests,
    expected: asCount(cell.expected),
    failed: asCount(cell.failed),
    innocentRequests: asCount(cell.innocent_requests),
    innocentFailed: asCount(cell.innocent_failed),
    durationSecs: asNumber(cell.duration_secs),
    startupSecs: asNumber(cell.startup_secs),
    imageTag: asText(cell.image_tag),
    imageId: asText(cell.image_id),
    exitCode: asNumber(cell.exit_code),
    oomKilled: cell.oom_killed === true,
    // Fields of a newer labour, shown when present (a seed is a u64:
    // Rust's text of it is exact, the document's number may not be).
    seed: asText(texts.seed) || asText(cell.seed),
    endedBy: asLine(cell.ended_by),
    funnel: readFunnel(cell.funnel),
    funnelMissing: asText(cell.funnel_missing),
    timeline: {
      bucketSecs: (asNumber(timeline.bucket_ms) || 100) / 1000,
      expected: asArray(timeline.expected).map(asCount),
      failed: asArray(timeline.failed).map(asCount),
    },
    events: asArray(cell.events)
      .map(readEvent)
      .filter(function (event) {
        return event.at !== null;
      }),
    faults: asArray(cell.faults)
      .map(readFault)
      .filter(function (fault) {
        return fault.at !== null;
      }),
    latency: {
      openLoop: corrected !== null,
      innocent: corrected ? readLatency(latency.innocent_corrected) : readLatency(latency.innocent),
      misbehaving: corrected ? readLatency(latency.misbehaving_corrected) : readLatency(latency.misbehaving),
      lateStarts: asCount(latency.late_starts),
    },
    resources: readResources(cell.resources),
    workers: asArray(cell.workers_seen)
      .map(function (value) {
        var worker = asObject(value);
        return { pid: asNumber(worker.pid), firstSeen: asNumber(worker.first_seen_secs) };
      })
      .filter(function (worker) {
        return worker.pid !== null;
      }),
    behaviours: asArray(cell.behaviours).map(function (value) {
      var behaviour = asObject(value);
      var unexpected = asObject(behaviour.unexpected);
      return {
        name: behaviourText(behaviour.behaviour),
        innocent: behaviour.innocent === true,
        expectation: asText(behaviour.expectation),
        requests: asCount(behaviour.requests),
        expected: asCount(behaviour.expected),
        unexpected: Object.keys(unexpected).map(function (key) {
          return { outcome: key, count: asCount(unexpected[key]) };
        }),
        connectStalls: asCount(behaviour.connect_stalls),
      };
    }),
    failureSamples: asArray(cell.failure_samples).map(function (value) {
      var sample = asObject(value);
      return {
        at: asNumber(sample.at_secs),
        behaviour: behaviourText(sample.behaviour),
        outcome: asText(sample.outcome) || "?",
        workerPid: asNumber(sample.worker_pid),
        detail: asLine(sample.detail) || "",
      };
    }),
    preflight: asArray(cell.preflight).map(function (value) {
      var check = asObject(value);
      return {
        behaviour: behaviourText(check.behaviour),
        expected: check.expected === true,
        outcome: asLine(check.outcome),
        detail: asLine(check.detail),
      };
    }),
    durability: readDurability(cell.durability),
    error: error ? { message: asLine(error.message) || "", logTail: asArray(error.log_tail).map(asLine) } : null,
    logTail: asArray(cell.log_tail).map(asLine),
    notEnforced: asArray(cell.not_enforced).map(asLine),
    client: {
      processes: asNumber(client.processes),
      cpuSecs: asNumber(client.cpu_secs),
      peakRssBytes: asNumber(client.peak_rss_bytes),
      workerFailures: asArray(client.worker_failures).map(asLine),
      // Connects, and those that waited for the kernel's SYN retry
      // (absent in documents from before labour counted them).
      connects: asCount(client.connects),
      connectStalls: asCount(client.connect_stalls),
      connectStalledSecs: asNumber(client.connect_stalled_secs),
      connectMaxMs: asNumber(asObject(client.connect_time).max_ms),
      allStalledSecs: asNumber(client.all_stalled_secs),
    },
  };
}

function readServer(value) {
  var server = asObject(value);
  var limits = asObject(server.limits);
  return {
    name: asText(server.name) || "?",
    version: asText(server.version),
    // "wsgi" when the document does not say (before ASGI, and every WSGI server).
    interface: asText(server.interface) || "wsgi",
    concurrency: asArray(server.concurrency).map(asLine),
    command: asArray(server.command).map(asLine),
    settings: asArray(server.settings_used).map(function (value) {
      var setting = asObject(value);
      return {
        knob: asText(setting.knob) || "?",
        value: asLine(setting.value),
        source: asText(setting.source),
        applied: setting.applied === true,
      };
    }),
    limits: {
      memoryBytes: asNumber(limits.memory_bytes),
      cpus: asNumber(limits.cpus),
      pids: asNumber(limits.pids_limit),
      restart: asLine(limits.restart),
      init: typeof limits.init === "boolean" ? limits.init : null,
    },
  };
}

function readTest(value, mixTexts, faultTexts) {
  var test = asObject(value);
  var labels = asArray(mixTexts);
  var faults = asArray(faultTexts).map(asLine).filter(Boolean);
  var load = asObject(test.load);
  return {
    name: asText(test.name) || "?",
    description: asText(test.description),
    policy: asText(test.policy),
    mix: asArray(test.mix).map(function (value, index) {
      var entry = asObject(value);
      return { behaviour: asText(labels[index]) || behaviourText(entry.behaviour), weight: asCount(entry.weight) };
    }),
    faults: faults,
    load: {
      requests: asNumber(load.requests),
      duration: asNumber(load.duration),
      rate: asNumber(load.rate),
      concurrency: asNumber(load.concurrency),
      processes: asNumber(load.processes),
      timeout: asNumber(load.timeout),
      giveUpAfter: asNumber(load.give_up_after),
      keepAlive: load.keep_alive === true,
    },
  };
}

// The model of the whole page, from the embedded payload.
function readReport(payloadValue) {
  var payload = asObject(payloadValue);
  var generator = asObject(payload.generator);
  var doc = asObject(payload.results);
  var texts = asObject(payload.texts);
  var environment = asObject(doc.environment);
  var engine = asObject(environment.engine);
  var scenario = asObject(doc.scenario);
  var container = asObject(scenario.container);
  var thresholds = asObject(scenario.thresholds);
  var failedAbove = asNumber(generator.disqualifying_failure_ratio);
  if (failedAbove === null) {
    failedAbove = 0.1;
  }
  var cellTexts = asArray(texts.cells);
  var outcomeWords = asObject(texts.outcomes);
  return {
    generator: {
      labourVersion: asText(generator.labour_version),
      echartsVersion: asText(generator.echarts_version),
      failedAbove: failedAbove,
    },
    run: {
      schemaVersion: asNumber(doc.schema_version),
      labourVersion: asText(doc.labour_version),
      runId: asText(doc.run_id),
      startedAt: asText(doc.started_at),
      finishedAt: asText(doc.finished_at),
      complete: doc.complete === true,
      interrupted: doc.interrupted === true,
      seed: asText(texts.seed) || asText(doc.seed),
      thresholdFailures: asArray(doc.threshold_failures).map(asLine),
    },
    engine: {
      runtime: asText(engine.runtime),
      selection: asText(engine.selection),
      version: asText(engine.version),
      apiVersion: asText(engine.api_version),
      kernel: asText(engine.kernel),
      os: asText(engine.os),
      cpus: asNumber(engine.cpus),
      memoryBytes: asNumber(engine.memory_bytes),
      endpoint: asLine(engine.endpoint),
      host: asLine(engine.host),
      network: asLine(engine.network),
      baseImages: asArray(engine.base_images).map(asLine).filter(Boolean),
      clientCpus: asNumber(environment.client_cpus),
    },
    container: {
      network: asLine(container.network),
      baseImage: asText(container.base_image),
      buildNetwork: asText(container.build_network),
    },
    thresholds: {
      maxFailure: asNumber(thresholds.max_failure_ratio),
      maxInnocentFailure: asNumber(thresholds.max_innocent_failure_ratio),
    },
    servers: asArray(scenario.servers).map(readServer),
    tests: asArray(scenario.tests).map(function (test, index) {
      return readTest(test, asArray(texts.mixes)[index], asArray(texts.faults)[index]);
    }),
    cells: asArray(doc.cells).map(function (cell, index) {
      return readCell(cell, index, cellTexts[index], failedAbove);
    }),
    outcomeWords: function (key) {
      return asText(outcomeWords[key]) || key;
    },
  };
}

// The payload embedded in the page, or null (with an error recorded).
function readEmbedded(elementId) {
  var element = document.getElementById(elementId);
  if (!element) {
    throw new Error("no results in this page (#" + elementId + " is missing)");
  }
  return JSON.parse(element.textContent || "null");
}
