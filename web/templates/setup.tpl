% rebase('base.tpl')
<section class="card auth">
  <h1>First start</h1>
  <p class="muted">This sensor has no password yet. The one-time setup code is written to the
  daemon's log (<code>journalctl -u affectra</code>). You can also set the password from a shell
  with <code>affectra set-password</code>.</p>
% if get('error'):
  <p class="alert alert-error" role="alert">{{error}}</p>
% end
  <form method="post" action="/setup" class="form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="text" id="username" value="admin" autocomplete="username" readonly hidden>
    <label for="code">Setup code</label>
    <input type="text" id="code" name="code" autocomplete="one-time-code" spellcheck="false" autocapitalize="off" required autofocus>
    <label for="password">New password</label>
    <input type="password" id="password" name="password" autocomplete="new-password" minlength="{{get('min_password_length', 10)}}" required>
    <p class="hint">At least {{get('min_password_length', 10)}} characters.</p>
    <label for="password2">New password again</label>
    <input type="password" id="password2" name="password2" autocomplete="new-password" minlength="{{get('min_password_length', 10)}}" required>
    <button type="submit" class="btn btn-primary">Set password</button>
  </form>
</section>
