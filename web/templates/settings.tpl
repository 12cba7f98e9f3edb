% rebase('base.tpl')
<section class="page-head">
  <h1>Settings</h1>
</section>
<form id="settings-form" class="form" novalidate>
  <section class="card">
    <h2>Sessions</h2>
    <p class="muted small">A viewer session starts when a face has been followed long enough and ends when it has been gone for the absence timeout.</p>
    <div class="form-grid">
      <div class="field">
        <label for="set-min-dwell">Minimum dwell (s)</label>
        <input type="number" id="set-min-dwell" data-section="sessions" name="min_dwell_s" min="0" max="600" step="0.1" required>
        <p class="hint">Shorter looks are not counted as a visitor.</p>
        <p class="field-error" id="err-sessions-min_dwell_s" hidden></p>
      </div>
      <div class="field">
        <label for="set-absence">Absence timeout (s)</label>
        <input type="number" id="set-absence" data-section="sessions" name="absence_timeout_s" min="0.1" max="600" step="0.1" required>
        <p class="hint">How long a face may be lost before its session ends.</p>
        <p class="field-error" id="err-sessions-absence_timeout_s" hidden></p>
      </div>
      <div class="field">
        <label for="set-min-frames">Minimum frames</label>
        <input type="number" id="set-min-frames" data-section="sessions" name="min_frames" min="1" max="10000" step="1" required>
        <p class="hint">Frames with a classified face a session needs.</p>
        <p class="field-error" id="err-sessions-min_frames" hidden></p>
      </div>
    </div>
  </section>
  <section class="card">
    <h2>Storage</h2>
    <div class="form-grid">
      <div class="field">
        <label for="set-retention">Keep sessions for (days)</label>
        <input type="number" id="set-retention" data-section="storage" name="retention_days" min="1" max="36500" step="1" required>
        <p class="hint">Older sessions are deleted automatically.</p>
        <p class="field-error" id="err-storage-retention_days" hidden></p>
      </div>
    </div>
  </section>
  <section class="card" id="mqtt-card">
    <h2>MQTT / Home Assistant <span class="badge state-unknown" id="mqtt-state">…</span></h2>
    <p class="muted small">Publishes live state and every ended session to an MQTT broker; Home Assistant finds the sensor by itself (MQTT discovery). Off until a broker host is set.</p>
    <p class="alert alert-error" id="mqtt-error" role="status" hidden></p>
    <p class="muted small" id="mqtt-counts"></p>
    <div class="form-grid">
      <div class="field field-check">
        <label><input type="checkbox" id="set-mqtt-enabled" data-section="mqtt" name="enabled"> Publish over MQTT</label>
        <p class="field-error" id="err-mqtt-enabled" hidden></p>
      </div>
      <div class="field">
        <label for="set-mqtt-host">Broker host</label>
        <input type="text" id="set-mqtt-host" data-section="mqtt" name="host" placeholder="homeassistant.local" autocomplete="off" spellcheck="false">
        <p class="hint">Host name or IP address only.</p>
        <p class="field-error" id="err-mqtt-host" hidden></p>
      </div>
      <div class="field">
        <label for="set-mqtt-port">Port</label>
        <input type="number" id="set-mqtt-port" data-section="mqtt" name="port" min="1" max="65535" step="1" required>
        <p class="hint">1883, or 8883 with TLS.</p>
        <p class="field-error" id="err-mqtt-port" hidden></p>
      </div>
      <div class="field">
        <label for="set-mqtt-username">User name</label>
        <input type="text" id="set-mqtt-username" data-section="mqtt" name="username" autocomplete="off" spellcheck="false">
        <p class="field-error" id="err-mqtt-username" hidden></p>
      </div>
      <div class="field">
        <label for="set-mqtt-password">Password</label>
        <input type="password" id="set-mqtt-password" data-section="mqtt" name="password" autocomplete="new-password" data-secret="1">
        <p class="hint"><span id="mqtt-password-hint">Stored encrypted on the device.</span></p>
        <p class="field-error" id="err-mqtt-password" hidden></p>
      </div>
      <div class="field field-check">
        <label><input type="checkbox" id="set-mqtt-tls" data-section="mqtt" name="tls"> Use TLS</label>
        <p class="field-error" id="err-mqtt-tls" hidden></p>
      </div>
      <div class="field">
        <label for="set-mqtt-ca">CA certificate file</label>
        <input type="text" id="set-mqtt-ca" data-section="mqtt" name="ca_file" placeholder="/etc/affectra/ca.pem" spellcheck="false">
        <p class="hint">With TLS: the CA that signed the broker's certificate; empty: the system's CAs.</p>
        <p class="field-error" id="err-mqtt-ca_file" hidden></p>
      </div>
      <div class="field">
        <label for="set-mqtt-cert">Client certificate file</label>
        <input type="text" id="set-mqtt-cert" data-section="mqtt" name="client_cert" spellcheck="false">
        <p class="hint">Optional, with its key.</p>
        <p class="field-error" id="err-mqtt-client_cert" hidden></p>
      </div>
      <div class="field">
        <label for="set-mqtt-key">Client key file</label>
        <input type="text" id="set-mqtt-key" data-section="mqtt" name="client_key" spellcheck="false">
        <p class="field-error" id="err-mqtt-client_key" hidden></p>
      </div>
      <div class="field">
        <label for="set-mqtt-topic">Base topic</label>
        <input type="text" id="set-mqtt-topic" data-section="mqtt" name="base_topic" placeholder="affectra" spellcheck="false">
        <p class="hint">Topics are <code>&lt;base&gt;/&lt;device id&gt;/…</code>.</p>
        <p class="field-error" id="err-mqtt-base_topic" hidden></p>
      </div>
      <div class="field field-check">
        <label><input type="checkbox" id="set-mqtt-discovery" data-section="mqtt" name="discovery"> Home Assistant discovery</label>
        <p class="field-error" id="err-mqtt-discovery" hidden></p>
      </div>
      <div class="field">
        <label for="set-mqtt-prefix">Discovery prefix</label>
        <input type="text" id="set-mqtt-prefix" data-section="mqtt" name="discovery_prefix" placeholder="homeassistant" spellcheck="false">
        <p class="field-error" id="err-mqtt-discovery_prefix" hidden></p>
      </div>
      <div class="field">
        <label for="set-mqtt-keepalive">Keepalive (s)</label>
        <input type="number" id="set-mqtt-keepalive" data-section="mqtt" name="keepalive_s" min="5" max="3600" step="1" required>
        <p class="field-error" id="err-mqtt-keepalive_s" hidden></p>
      </div>
      <div class="field">
        <label for="set-mqtt-summary">Summary every (s)</label>
        <input type="number" id="set-mqtt-summary" data-section="mqtt" name="summary_interval_s" min="5" max="86400" step="1" required>
        <p class="hint">The state summary is also sent after every session.</p>
        <p class="field-error" id="err-mqtt-summary_interval_s" hidden></p>
      </div>
    </div>
  </section>
  <div class="actions">
    <button type="submit" class="btn btn-primary" id="settings-save">Save</button>
    <span id="settings-result" class="muted" role="status"></span>
  </div>
  <p class="field-error form-error" id="err-form" hidden></p>
</form>
