% rebase('base.tpl')
% from urllib.parse import quote
% cams = get('cameras') or []
% sel = get('selected') or ''
<section class="page-head">
  <h1>Live</h1>
  <div class="toolbar">
    <label for="camera-picker" class="inline-label">Camera</label>
    <select id="camera-picker">
% for cam in cams:
      <option value="{{cam['id']}}"{{' selected' if cam['id'] == sel else ''}}>{{cam['id']}} ({{cam.get('kind', '')}})</option>
% end
    </select>
    <button type="button" id="make-active" class="btn" hidden>Make active</button>
    <span id="live-state" class="badge state-unknown">…</span>
  </div>
</section>
<p id="live-message" class="alert alert-error" role="alert" hidden></p>
<div class="live-grid">
  <figure class="live-frame">
% if sel:
    <img id="live" src="/api/live.jpg?camera={{quote(sel, safe='')}}" data-camera="{{sel}}" data-live-fps="{{get('live_fps', 5)}}" alt="Live view of camera {{sel}} with face boxes and emotions">
% else:
    <img id="live" src="/static/no-camera.svg" data-camera="" data-live-fps="{{get('live_fps', 5)}}" alt="No camera selected">
% end
    <figcaption id="live-caption" class="muted">Boxes, track ids and emotions are drawn by the analyzer.</figcaption>
  </figure>
  <aside class="card live-side">
    <h2>Now</h2>
    <dl class="facts">
      <dt>Viewers now</dt><dd id="viewers-now">–</dd>
      <dt>Sessions today</dt><dd id="sessions-today">–</dd>
      <dt>Faces on this camera</dt><dd id="faces-now">–</dd>
      <dt>Frame rate</dt><dd id="cam-fps">–</dd>
      <dt>Resolution</dt><dd id="cam-size">–</dd>
    </dl>
    <h2>Cameras</h2>
    <ul id="camera-status" class="status-list">
% for cam in cams:
      <li><span class="status-name">{{cam['id']}}</span> <span class="badge state-unknown">…</span></li>
% end
    </ul>
    <p id="cam-error" class="field-error" hidden></p>
  </aside>
</div>
