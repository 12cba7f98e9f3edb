% rebase('base.tpl')
<section class="card auth">
  <h1>Log in</h1>
  <p class="muted">Enter the administrator password of this sensor.</p>
% if get('error'):
  <p class="alert alert-error" role="alert">{{error}}</p>
% end
  <form method="post" action="/login" class="form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="text" id="username" value="admin" autocomplete="username" readonly hidden>
    <label for="password">Password</label>
    <input type="password" id="password" name="password" autocomplete="current-password" required autofocus>
    <button type="submit" class="btn btn-primary">Log in</button>
  </form>
</section>
