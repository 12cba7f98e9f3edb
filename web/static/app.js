/* Affectra Edge web UI. Plain JavaScript, no build step.
 *
 * Served under "Content-Security-Policy: default-src 'self'": no inline script or style, no
 * eval. Data from the server is put into the page with textContent only, never innerHTML.
 * Every non-GET request carries the CSRF token of <meta name="csrf-token"> as X-CSRF-Token.
 */
(function () {
  'use strict';

  var EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
  var EMOTION_COLORS = {
    angry: '#d64545',
    disgust: '#6f9a2e',
    fear: '#8e5cc2',
    happy: '#e3a500',
    sad: '#3b7dd8',
    surprise: '#e0772e',
    neutral: '#8a939e'
  };
  var STATES = ['online', 'offline', 'stalled', 'disabled', 'starting'];

  var metaToken = document.querySelector('meta[name="csrf-token"]');
  var CSRF_TOKEN = metaToken ? metaToken.getAttribute('content') : '';

  /* ---------- small helpers ---------- */

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function show(node, text, kind) {
    if (!node) return;
    if (text !== undefined) node.textContent = text;
    if (kind) {
      node.classList.remove('alert-error', 'alert-ok', 'alert-info');
      node.classList.add('alert-' + kind);
    }
    node.hidden = false;
  }

  function hide(node) {
    if (node) node.hidden = true;
  }

  function capitalize(s) {
    s = String(s);
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function fmtInt(n) {
    return typeof n === 'number' && isFinite(n) ? Math.round(n).toLocaleString() : '–';
  }

  function fmtDuration(s) {
    if (typeof s !== 'number' || !isFinite(s)) return '–';
    if (s < 60) return s.toFixed(1) + ' s';
    var m = Math.floor(s / 60);
    var rest = Math.round(s - m * 60);
    if (m < 60) return m + ' min ' + rest + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }

  function pad2(n) {
    return (n < 10 ? '0' : '') + n;
  }

  function isoDate(d) {
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate());
  }

  /* Shares may come as fractions (sum 1) or as percentages (sum 100): return percentages. */
  function sharesToPercent(shares) {
    var out = {};
    var total = 0;
    EMOTIONS.forEach(function (e) {
      var v = shares && typeof shares[e] === 'number' && isFinite(shares[e]) ? shares[e] : 0;
      out[e] = v;
      total += v;
    });
    var scale = total > 1.5 ? 1 : 100;
    EMOTIONS.forEach(function (e) {
      out[e] = out[e] * scale;
    });
    return out;
  }

  function setBadge(node, state) {
    if (!node) return;
    var known = STATES.indexOf(state) >= 0 ? state : 'unknown';
    node.className = 'badge state-' + known;
    node.textContent = state ? String(state) : 'unknown';
  }

  /* Run fn now, then again `ms` after each run ends; skip runs while the tab is hidden. */
  function poll(fn, ms) {
    var timer = null;
    function tick() {
      timer = null;
      if (document.hidden) {
        schedule();
        return;
      }
      Promise.resolve()
        .then(fn)
        .catch(function () { /* fn shows its own errors */ })
        .then(schedule);
    }
    function schedule() {
      if (timer === null) timer = setTimeout(tick, ms);
    }
    tick();
    return {
      now: function () {
        if (timer !== null) {
          clearTimeout(timer);
          timer = null;
        }
        tick();
      }
    };
  }

  /* ---------- API ---------- */

  function ApiError(message, field, status) {
    this.message = message;
    this.field = field || null;
    this.status = status || 0;
  }

  function api(method, url, body) {
    var opts = {
      method: method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json' }
    };
    if (method !== 'GET' && method !== 'HEAD') {
      opts.headers['X-CSRF-Token'] = CSRF_TOKEN;
      if (body !== undefined) {
        opts.headers['Content-Type'] = 'application/json';
        opts.body = JSON.stringify(body);
      }
    }
    return fetch(url, opts).then(
      function (res) {
        var loggedOut = res.status === 401 ||
          (res.redirected && new URL(res.url).pathname === '/login');
        if (loggedOut) {
          window.location.assign('/login');
          throw new ApiError('Your session has ended. Please log in again.', null, 401);
        }
        var type = res.headers.get('Content-Type') || '';
        var parsed = type.indexOf('json') >= 0
          ? res.json().catch(function () { return null; })
          : Promise.resolve(null);
        return parsed.then(function (data) {
          if (!res.ok) {
            var msg = data && typeof data.error === 'string' && data.error
              ? data.error
              : 'The sensor answered with an error (HTTP ' + res.status + ').';
            throw new ApiError(msg, data && typeof data.field === 'string' ? data.field : null, res.status);
          }
          return data;
        });
      },
      function () {
        throw new ApiError('Cannot reach the sensor. Check the network connection.', null, 0);
      }
    );
  }

  function errorText(err) {
    return err && err.message ? err.message : 'Something went wrong.';
  }

  /* ---------- form errors next to fields ---------- */

  function clearErrors(form) {
    form.querySelectorAll('.field-error').forEach(function (p) {
      p.textContent = '';
      p.hidden = true;
    });
    form.querySelectorAll('[aria-invalid]').forEach(function (input) {
      input.removeAttribute('aria-invalid');
    });
  }

  function findInput(form, field) {
    var esc = window.CSS && CSS.escape ? CSS.escape : function (s) { return s; };
    var parts = String(field).split('.');
    var name = parts[parts.length - 1];
    var input = null;
    if (parts.length > 1) {
      input = form.querySelector('[data-section="' + esc(parts[0]) + '"][name="' + esc(name) + '"]');
    }
    return input || form.querySelector('[name="' + esc(name) + '"]');
  }

  function showError(form, err) {
    var input = err.field ? findInput(form, err.field) : null;
    var slot = null;
    if (input) {
      var wrap = input.closest('.field');
      slot = wrap ? wrap.querySelector('.field-error') : null;
      input.setAttribute('aria-invalid', 'true');
    }
    if (!slot) slot = form.querySelector('.form-error') || form.querySelector('.field-error');
    if (!slot) return;
    slot.textContent = errorText(err);
    slot.hidden = false;
    if (input) input.focus();
  }

  /* ---------- Live ---------- */

  function initLive() {
    var img = $('live');
    if (!img) return;
    var picker = $('camera-picker');
    var makeActive = $('make-active');
    var message = $('live-message');
    var fps = parseFloat(img.dataset.liveFps);
    if (!isFinite(fps) || fps <= 0) fps = 5;
    var interval = Math.max(33, Math.round(1000 / Math.min(fps, 30)));
    var camera = img.dataset.camera || '';
    var timer = null;
    var waiting = false; // a frame is loading: never stack requests
    var lastStatus = null;

    function frameUrl() {
      return '/api/live.jpg?camera=' + encodeURIComponent(camera) + '&t=' + Date.now();
    }

    function load() {
      timer = null;
      if (!camera || waiting) return;
      if (document.hidden) {
        timer = setTimeout(load, 1000);
        return;
      }
      waiting = true;
      img.src = frameUrl();
    }

    function next(ms) {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(load, ms);
    }

    img.addEventListener('load', function () {
      waiting = false;
      hide(message);
      if (camera) next(interval);
    });
    img.addEventListener('error', function () {
      waiting = false;
      if (camera) {
        show(message, 'No live image from camera ' + camera + ' right now; retrying…', 'error');
        next(Math.max(2000, interval));
      }
    });
    // The first frame comes from the template's src; start the loop if it already loaded.
    if (img.complete && camera) next(interval);

    function render(status) {
      lastStatus = status;
      $('viewers-now').textContent = fmtInt(status.viewers_now);
      $('sessions-today').textContent = fmtInt(status.sessions_today);
      var cams = Array.isArray(status.cameras) ? status.cameras : [];
      var list = $('camera-status');
      list.replaceChildren();
      var current = null;
      cams.forEach(function (c) {
        var li = el('li');
        var name = el('span', 'status-name', c.camera_id);
        if (c.camera_id === status.selected) name.appendChild(el('span', 'tag', 'active'));
        li.appendChild(name);
        var badge = el('span');
        setBadge(badge, c.state);
        li.appendChild(badge);
        var faces = typeof c.faces === 'number' ? c.faces : 0;
        li.appendChild(el('span', 'muted small', faces === 1 ? '1 face' : faces + ' faces'));
        list.appendChild(li);
        if (c.camera_id === camera) current = c;
        if (picker && !Array.prototype.some.call(picker.options, function (o) { return o.value === c.camera_id; })) {
          picker.appendChild(new Option(c.camera_id, c.camera_id));
        }
      });
      if (!cams.length) list.appendChild(el('li', 'muted', 'No cameras configured.'));

      var camError = $('cam-error');
      if (current) {
        setBadge($('live-state'), current.state);
        $('faces-now').textContent = fmtInt(current.faces);
        $('cam-fps').textContent = typeof current.fps === 'number' ? current.fps.toFixed(1) + ' fps' : '–';
        $('cam-size').textContent = current.width && current.height ? current.width + ' × ' + current.height : '–';
        if (current.last_error && current.state !== 'online') {
          show(camError, 'Last error: ' + current.last_error);
        } else {
          hide(camError);
        }
      } else {
        setBadge($('live-state'), camera ? 'offline' : 'unknown');
        ['faces-now', 'cam-fps', 'cam-size'].forEach(function (id) { $(id).textContent = '–'; });
        hide(camError);
      }
      if (makeActive) makeActive.hidden = !camera || camera === status.selected;
    }

    var statusPoll = poll(function () {
      return api('GET', '/api/status').then(render, function (err) {
        setBadge($('live-state'), 'unknown');
        show(message, errorText(err), 'error');
      });
    }, 2000);

    if (picker) {
      picker.addEventListener('change', function () {
        camera = picker.value;
        img.dataset.camera = camera;
        img.alt = 'Live view of camera ' + camera + ' with face boxes and emotions';
        waiting = false;
        if (timer !== null) clearTimeout(timer);
        load();
        if (lastStatus) render(lastStatus);
      });
    }
    if (makeActive) {
      makeActive.addEventListener('click', function () {
        makeActive.disabled = true;
        api('POST', '/api/cameras/' + encodeURIComponent(camera) + '/select', {})
          .then(function () { statusPoll.now(); }, function (err) { show(message, errorText(err), 'error'); })
          .then(function () { makeActive.disabled = false; });
      });
    }
  }

  /* ---------- Statistics ---------- */

  function initStats() {
    var message = $('stats-message');
    var refreshBtn = $('stats-refresh');
    var range = 'day';
    var data = null;
    var sharesChart = null;
    var sessionsChart = null;
    var hasChart = typeof window.Chart === 'function';

    if (hasChart) {
      Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      Chart.defaults.color = '#4a5563';
    } else {
      show(message, 'The chart library did not load; numbers are shown without charts.', 'error');
    }

    function hourLabel(h) {
      return pad2(h) + ':00';
    }

    function dayLabel(d) {
      return typeof d === 'string' && d.length >= 10 ? d.slice(5) : String(d);
    }

    function seriesFor(r) {
      var rows = r === 'month' ? data.per_day : data.per_hour;
      rows = Array.isArray(rows) ? rows : [];
      return {
        labels: rows.map(function (row) { return r === 'month' ? dayLabel(row.date) : hourLabel(row.hour); }),
        shares: rows.map(function (row) { return sharesToPercent(row.shares); }),
        sessions: rows.map(function (row) { return typeof row.sessions === 'number' ? row.sessions : 0; })
      };
    }

    function baseOptions() {
      return {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } }
      };
    }

    function drawShares() {
      var s = seriesFor(range);
      var datasets = EMOTIONS.map(function (e) {
        return {
          label: capitalize(e),
          data: s.shares.map(function (row) { return row[e]; }),
          backgroundColor: EMOTION_COLORS[e],
          borderWidth: 0,
          stack: 'shares'
        };
      });
      if (sharesChart) {
        sharesChart.data.labels = s.labels;
        sharesChart.data.datasets.forEach(function (ds, i) { ds.data = datasets[i].data; });
        sharesChart.update('none');
        return;
      }
      var options = baseOptions();
      options.scales = {
        x: { stacked: true, grid: { display: false } },
        y: {
          stacked: true, beginAtZero: true, max: 100,
          ticks: { callback: function (v) { return v + ' %'; } }
        }
      };
      options.plugins.tooltip = {
        callbacks: {
          label: function (ctx) { return ctx.dataset.label + ': ' + ctx.parsed.y.toFixed(1) + ' %'; }
        }
      };
      sharesChart = new Chart($('chart-shares'), { type: 'bar', data: { labels: s.labels, datasets: datasets }, options: options });
    }

    function drawSessions() {
      var s = seriesFor('day');
      if (sessionsChart) {
        sessionsChart.data.labels = s.labels;
        sessionsChart.data.datasets[0].data = s.sessions;
        sessionsChart.update('none');
        return;
      }
      var options = baseOptions();
      options.plugins.legend = { display: false };
      options.scales = {
        x: { grid: { display: false } },
        y: { beginAtZero: true, ticks: { precision: 0 } }
      };
      sessionsChart = new Chart($('chart-sessions'), {
        type: 'bar',
        data: { labels: s.labels, datasets: [{ label: 'Sessions', data: s.sessions, backgroundColor: '#1f6feb', borderWidth: 0 }] },
        options: options
      });
    }

    function renderShares(shares) {
      var pct = sharesToPercent(shares);
      var list = $('shares');
      list.replaceChildren();
      EMOTIONS.slice().sort(function (a, b) { return pct[b] - pct[a]; }).forEach(function (e) {
        var li = el('li', 'bar-row');
        li.appendChild(el('span', 'bar-label', capitalize(e)));
        var track = el('span', 'bar-track');
        var fill = el('span', 'bar-fill emo-' + e);
        fill.style.width = Math.max(0, Math.min(100, pct[e])).toFixed(1) + '%'; // CSSOM: allowed by the CSP
        track.appendChild(fill);
        li.appendChild(track);
        li.appendChild(el('span', 'bar-value', pct[e].toFixed(1) + ' %'));
        list.appendChild(li);
      });
    }

    function render() {
      $('stat-total').textContent = fmtInt(data.sessions_total);
      $('stat-today').textContent = fmtInt(data.sessions_today);
      $('stat-now').textContent = fmtInt(data.viewers_now);
      $('stat-top').textContent = data.top_emotion ? capitalize(data.top_emotion) : '–';
      $('stat-duration').textContent = fmtDuration(data.average_duration_s);
      renderShares(data.shares);
      if (hasChart) {
        drawShares();
        drawSessions();
      }
      $('stats-updated').textContent = 'Updated ' + new Date().toLocaleTimeString();
    }

    function refresh() {
      refreshBtn.disabled = true;
      return api('GET', '/api/stats').then(
        function (d) {
          data = d || {};
          if (hasChart) hide(message);
          render();
        },
        function (err) { show(message, errorText(err), 'error'); }
      ).then(function () { refreshBtn.disabled = false; });
    }

    var statsPoll = poll(refresh, 30000);
    refreshBtn.addEventListener('click', function () { statsPoll.now(); });

    document.querySelectorAll('.segmented .seg').forEach(function (btn) {
      btn.addEventListener('click', function () {
        range = btn.dataset.range === 'month' ? 'month' : 'day';
        document.querySelectorAll('.segmented .seg').forEach(function (b) {
          var on = b === btn;
          b.classList.toggle('active', on);
          b.setAttribute('aria-pressed', on ? 'true' : 'false');
        });
        if (data && hasChart) drawShares();
      });
    });

    // CSV download: default to the last 30 days.
    var from = $('csv-from');
    var to = $('csv-to');
    var today = new Date();
    var monthAgo = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29);
    if (!from.value) from.value = isoDate(monthAgo);
    if (!to.value) to.value = isoDate(today);
    $('csv-form').addEventListener('submit', function (ev) {
      if (from.value && to.value && from.value > to.value) {
        ev.preventDefault();
        show(message, '"From" must not be after "To".', 'error');
      }
    });
  }

  /* ---------- Cameras ---------- */

  var SOURCE_HINTS = {
    webcam: ['0', 'Webcam index, e.g. 0 for /dev/video0.'],
    mjpeg: ['http://192.168.1.50:81/stream', 'MJPEG stream URL, e.g. an ESP32-CAM.'],
    rtsp: ['rtsp://camera.local:554/stream1', 'RTSP or HTTP URL of a network camera.'],
    file: ['/var/lib/affectra/videos/sample.mp4', 'Path of a video file on the sensor.'],
    demo: ['', 'No source needed.']
  };

  function initCameras() {
    var body = $('cameras-body');
    var message = $('cameras-message');
    var form = $('camera-form');
    var kind = $('cam-kind');
    var source = $('cam-source');
    var testBtn = $('cam-test');
    var addBtn = $('cam-add');
    var testResult = $('cam-test-result');
    var armed = null; // the "Remove" button waiting for its second click

    function flash(text, kindName) {
      show(message, text, kindName);
    }

    function action(url, payload, done) {
      return api('POST', url, payload).then(
        function () {
          if (done) flash(done, 'ok');
          else hide(message);
        },
        function (err) { flash(errorText(err), 'error'); }
      ).then(reload);
    }

    function button(text, cls, onClick) {
      var b = el('button', 'btn btn-small' + (cls ? ' ' + cls : ''), text);
      b.type = 'button';
      b.addEventListener('click', onClick);
      return b;
    }

    function row(cam, selected) {
      var tr = el('tr');
      var id = String(cam.id);
      var enc = encodeURIComponent(id);
      var isSelected = id === selected;

      var tdId = el('td');
      tdId.appendChild(el('strong', null, id));
      if (isSelected) tdId.appendChild(el('span', 'tag tag-active', 'active'));
      if (cam.from_config) tdId.appendChild(el('span', 'tag', 'config file'));
      tr.appendChild(tdId);
      tr.appendChild(el('td', null, cam.kind));
      var tdSrc = el('td', 'source-cell');
      tdSrc.appendChild(el('code', null, cam.display_source || '–'));
      tr.appendChild(tdSrc);
      tr.appendChild(el('td', null, cam.mode));

      var tdState = el('td');
      var badge = el('span');
      setBadge(badge, cam.enabled === false ? 'disabled' : cam.state);
      tdState.appendChild(badge);
      if (cam.last_error) tdState.appendChild(el('div', 'field-error small', cam.last_error));
      tr.appendChild(tdState);

      var tdAct = el('td', 'row-actions');
      var sel = button(isSelected ? 'Active' : 'Select', null, function () {
        action('/api/cameras/' + enc + '/select', {}, 'Camera ' + id + ' is now the active camera.');
      });
      sel.disabled = isSelected || cam.enabled === false;
      tdAct.appendChild(sel);
      var enabled = cam.enabled !== false;
      tdAct.appendChild(button(enabled ? 'Disable' : 'Enable', null, function () {
        action('/api/cameras/' + enc + '/enable', { enabled: !enabled },
          'Camera ' + id + (enabled ? ' disabled.' : ' enabled.'));
      }));
      var rm = button('Remove', 'btn-danger-outline', function () {
        if (armed !== rm) {
          disarm();
          armed = rm;
          rm.textContent = 'Really remove?';
          rm.classList.add('btn-danger');
          rm.dataset.timer = String(setTimeout(disarm, 5000));
          return;
        }
        disarm();
        action('/api/cameras/' + enc + '/remove', {}, 'Camera ' + id + ' removed.');
      });
      tdAct.appendChild(rm);
      tr.appendChild(tdAct);
      return tr;
    }

    function disarm() {
      if (!armed) return;
      clearTimeout(Number(armed.dataset.timer));
      armed.textContent = 'Remove';
      armed.classList.remove('btn-danger');
      armed = null;
    }

    function render(d) {
      var cams = d && Array.isArray(d.cameras) ? d.cameras : [];
      body.replaceChildren();
      cams.forEach(function (cam) { body.appendChild(row(cam, d.selected)); });
      if (!cams.length) {
        var tr = el('tr');
        var td = el('td', 'muted', 'No cameras yet: add one below.');
        td.colSpan = 6;
        tr.appendChild(td);
        body.appendChild(tr);
      }
    }

    function reload() {
      if (armed) return Promise.resolve(); // don't pull the button away under the user's finger
      return api('GET', '/api/cameras').then(render, function (err) { flash(errorText(err), 'error'); });
    }

    poll(reload, 5000);

    function updateHint() {
      var h = SOURCE_HINTS[kind.value] || ['', ''];
      source.placeholder = h[0];
      $('source-hint').textContent = h[1];
      source.required = kind.value !== 'demo';
    }
    kind.addEventListener('change', updateHint);
    updateHint();

    function payload() {
      return {
        id: form.elements.id.value.trim(),
        kind: kind.value,
        source: source.value.trim(),
        mode: form.elements.mode.value
      };
    }

    function checkRequired(p, needId) {
      if (needId && !p.id) {
        showError(form, new ApiError('Give the camera an id.', 'id'));
        return false;
      }
      if (!p.source && p.kind !== 'demo') {
        showError(form, new ApiError('Enter a source.', 'source'));
        return false;
      }
      return true;
    }

    function busy(on) {
      testBtn.disabled = on;
      addBtn.disabled = on;
    }

    testBtn.addEventListener('click', function () {
      clearErrors(form);
      hide(testResult);
      var p = payload();
      if (!checkRequired(p, false)) return;
      busy(true);
      testBtn.textContent = 'Testing…';
      api('POST', '/api/cameras/test', p).then(
        function (r) {
          r = r || {};
          if (r.ok) {
            var parts = [];
            if (r.width && r.height) parts.push(r.width + ' × ' + r.height);
            if (typeof r.fps === 'number' && r.fps > 0) parts.push(r.fps.toFixed(1) + ' fps');
            show(testResult, 'Test passed' + (parts.length ? ': ' + parts.join(', ') : '') +
              (r.message ? '. ' + r.message : '') + ' (not saved yet)', 'ok');
          } else {
            show(testResult, 'Test failed: ' + (r.message || 'no frame received'), 'error');
          }
        },
        function (err) { showError(form, err); }
      ).then(function () {
        busy(false);
        testBtn.textContent = 'Test';
      });
    });

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      clearErrors(form);
      hide(testResult);
      var p = payload();
      if (!checkRequired(p, true)) return;
      busy(true);
      api('POST', '/api/cameras', p).then(
        function () {
          form.reset();
          updateHint();
          flash('Camera ' + p.id + ' added.', 'ok');
          return reload();
        },
        function (err) { showError(form, err); }
      ).then(function () { busy(false); });
    });
  }

  /* ---------- Settings ---------- */

  var MQTT_BADGE = {
    connected: 'online',
    connecting: 'starting',
    disconnected: 'offline',
    refused: 'offline',
    error: 'offline',
    off: 'disabled',
    stopped: 'disabled'
  };

  function initSettings() {
    var form = $('settings-form');
    var result = $('settings-result');
    var save = $('settings-save');
    var inputs = Array.prototype.slice.call(form.querySelectorAll('input[data-section]'));
    var passwordInput = $('set-mqtt-password');

    function fill(d) {
      if (!d) return;
      inputs.forEach(function (input) {
        var section = d[input.dataset.section];
        if (input.dataset.secret) {
          input.value = '';
          return;
        }
        if (section && Object.prototype.hasOwnProperty.call(section, input.name)) {
          var v = section[input.name];
          if (input.type === 'checkbox') input.checked = v === true;
          else input.value = v === null || v === undefined ? '' : String(v);
        }
      });
      var kept = d.mqtt && d.mqtt.password_set === true;
      passwordInput.placeholder = kept ? '(unchanged)' : '';
      $('mqtt-password-hint').textContent = kept
        ? 'A password is stored (encrypted). Type a new one to replace it; clear the user name to remove it.'
        : 'Stored encrypted on the device.';
    }

    function showMqtt(st) {
      if (!st) return;
      var badge = $('mqtt-state');
      badge.className = 'badge state-' + (MQTT_BADGE[st.state] || 'unknown');
      badge.textContent = st.state === 'off' ? 'off' : String(st.state || 'unknown');
      var error = $('mqtt-error');
      if (st.last_error && st.state !== 'connected') show(error, st.last_error, 'error');
      else hide(error);
      var counts = [];
      if (st.broker) counts.push(st.broker);
      if (typeof st.sent_sessions === 'number') counts.push(fmtInt(st.sent_sessions) + ' session(s) sent');
      if (st.pending_sessions) counts.push(fmtInt(st.pending_sessions) + ' waiting for the broker');
      if (st.dropped_sessions) counts.push(fmtInt(st.dropped_sessions) + ' dropped from the queue (still in the CSV files)');
      if (typeof st.retry_in_s === 'number') counts.push('next try in ' + st.retry_in_s + ' s');
      $('mqtt-counts').textContent = counts.join(' · ');
    }

    api('GET', '/api/settings').then(fill, function (err) { showError(form, err); });
    poll(function () {
      return api('GET', '/api/mqtt').then(showMqtt, function () { /* shown on save */ });
    }, 3000);

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      clearErrors(form);
      result.textContent = '';
      var body = {};
      inputs.forEach(function (input) {
        var section = input.dataset.section;
        body[section] = body[section] || {};
        if (input.type === 'checkbox') {
          body[section][input.name] = input.checked;
          return;
        }
        var raw = input.value.trim();
        if (input.dataset.secret) {
          if (input.value !== '') body[section][input.name] = input.value;
          return;
        }
        var num = Number(raw);
        // Numbers as numbers (anything else as typed, so the server names the problem).
        body[section][input.name] = input.type === 'number' && raw !== '' && isFinite(num) ? num : raw;
      });
      save.disabled = true;
      api('POST', '/api/settings', body).then(
        function (d) {
          if (d && (d.sessions || d.storage)) fill(d);
          result.textContent = 'Saved.';
          setTimeout(function () { api('GET', '/api/mqtt').then(showMqtt, function () {}); }, 1500);
        },
        function (err) { showError(form, err); }
      ).then(function () { save.disabled = false; });
    });
  }

  /* ---------- Clear data ---------- */

  function initClear() {
    var form = $('clear-form');
    var input = $('clear-confirm');
    var submit = $('clear-submit');
    var result = $('clear-result');
    var count = null;

    function setCount(n) {
      count = typeof n === 'number' && isFinite(n) ? n : null;
      var text = count === null ? '?' : String(count);
      $('clear-count').textContent = text;
      $('clear-count-2').textContent = text;
      submit.textContent = 'Delete ' + text + ' session(s)';
      check();
    }

    function check() {
      submit.disabled = count === null || input.value.trim() !== String(count);
    }

    function load() {
      return api('GET', '/api/clear').then(
        function (d) { setCount(d && d.sessions); },
        function (err) { showError(form, err); }
      );
    }

    var initial = parseInt($('clear-count').textContent, 10);
    setCount(isFinite(initial) ? initial : null);
    load();
    input.addEventListener('input', check);

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      clearErrors(form);
      hide(result);
      if (count === null || input.value.trim() !== String(count)) {
        showError(form, new ApiError('Type ' + (count === null ? 'the number' : count) + ' to confirm.', 'confirm'));
        return;
      }
      submit.disabled = true;
      api('POST', '/api/clear', { confirm: count }).then(
        function (d) {
          var n = d && typeof d.deleted === 'number' ? d.deleted : count;
          show(result, 'Deleted ' + n + ' session(s). The statistics are empty now.', 'ok');
          input.value = '';
          return load();
        },
        function (err) {
          showError(form, err);
          return load();
        }
      ).then(check);
    });
  }

  /* ---------- start ---------- */

  var PAGES = {
    live: initLive,
    stats: initStats,
    cameras: initCameras,
    settings: initSettings,
    clear: initClear
  };

  function start() {
    var init = PAGES[document.body.dataset.page];
    if (init) init();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
