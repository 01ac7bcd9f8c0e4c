// express-session's README, "req.session" and "Session.destroy(callback)": the view counter
// with res.write and req.session.cookie.maxAge, and logout by destroy. The snippets are
// unchanged; only the require line of express-session is changed, and the app around them
// (express(), listen) is added.
var express = require('express')
var session = require('polysession')
var app = express()

// Use the session middleware
app.use(session({ secret: 'keyboard cat', cookie: { maxAge: 60000 }}))

// Access the session as req.session
app.get('/', function(req, res, next) {
  if (req.session.views) {
    req.session.views++
    res.setHeader('Content-Type', 'text/html')
    res.write('<p>views: ' + req.session.views + '</p>')
    res.write('<p>expires in: ' + (req.session.cookie.maxAge / 1000) + 's</p>')
    res.end()
  } else {
    req.session.views = 1
    res.end('welcome to the session demo. refresh!')
  }
})

app.get('/logout', function(req, res, next) {
  req.session.destroy(function(err) {
    // cannot access session here
    res.end('bye')
  })
})

app.listen(3000)
