# Client matrix: Ruby's xmlrpc library (Debian ruby-xmlrpc), as the Odoo documentation's Ruby
# examples use it: XMLRPC::Client.new2(url).call(...) and .proxy.
#
# Environment: MATRIX_URL, MATRIX_DB, MATRIX_LOGIN, MATRIX_PASSWORD (an API key).
# Output: one JSON line {"client", "version"}, then one {"step", "ok", "detail"} per step.
require 'json'
require 'xmlrpc'
require 'xmlrpc/client'

URL = ENV.fetch('MATRIX_URL')
DB = ENV.fetch('MATRIX_DB')
LOGIN = ENV.fetch('MATRIX_LOGIN')
PASSWORD = ENV.fetch('MATRIX_PASSWORD')
NAME = "Zo\u00EB M\u00FCller"

def emit(obj)
  $stdout.puts(JSON.generate(obj))
  $stdout.flush
end

def check(cond, what)
  raise "check failed: #{what.inspect}" unless cond
end

def step(name)
  detail = yield
  emit(step: name, ok: true, detail: detail.inspect[0, 300])
rescue StandardError => e
  emit(step: name, ok: false, detail: "#{e.class}: #{e.message}"[0, 500])
end

emit(client: 'ruby xmlrpc', version: "#{XMLRPC::VERSION} (Ruby #{RUBY_VERSION})")
common = XMLRPC::Client.new2("#{URL}/xmlrpc/2/common")
models = XMLRPC::Client.new2("#{URL}/xmlrpc/2/object").proxy
uid = 0
id = 0

step('connect') do
  v = common.call('version')
  check(v['server_version'] == '19.0' && v['protocol_version'] == 1, v)
  v['server_version']
end

step('login') do
  uid = common.call('authenticate', DB, LOGIN, PASSWORD, {})
  check(uid.is_a?(Integer) && uid.positive?, uid)
  uid
end

step('read') do
  recs = models.execute_kw(DB, uid, PASSWORD, 'res.partner', 'read', [[1]], { fields: ['name'] })
  check(recs == [{ 'id' => 1, 'name' => 'YourCompany' }], recs)
  recs
end

step('search_read') do
  recs = models.execute_kw(DB, uid, PASSWORD, 'res.partner', 'search_read',
                           [[['is_company', '=', true]], ['name'], 0, 2, 'id'])
  check(recs.map { |r| r['name'] } == ['YourCompany', 'Wood Corner'], recs)
  recs
end

step('create') do
  id = models.execute_kw(DB, uid, PASSWORD, 'res.partner', 'create', [{ name: NAME, email: 'zoe@example.com' }])
  check(id.is_a?(Integer), id)
  back = models.execute_kw(DB, uid, PASSWORD, 'res.partner', 'read', [[id], ['name']])
  check(back[0]['name'] == NAME, back)
  id
end

step('write') do
  ok = models.execute_kw(DB, uid, PASSWORD, 'res.partner', 'write', [[id], { name: "#{NAME} (updated)" }])
  check(ok == true, ok)
  back = models.execute_kw(DB, uid, PASSWORD, 'res.partner', 'read', [[id]], { fields: ['name'] })
  check(back[0]['name'] == "#{NAME} (updated)", back)
  ok
end

step('unlink') do
  ok = models.execute_kw(DB, uid, PASSWORD, 'res.partner', 'unlink', [[id]])
  check(ok == true, ok)
  left = models.execute_kw(DB, uid, PASSWORD, 'res.partner', 'search', [[['id', '=', id]]])
  check(left == [], left)
  ok
end

step('fault') do
  # call2 answers [ok, value-or-FaultException] instead of raising.
  ok, fault = XMLRPC::Client.new2("#{URL}/xmlrpc/2/object")
                            .call2('execute_kw', DB, uid, PASSWORD, 'no.such.model', 'read', [[1]])
  check(ok == false && fault.is_a?(XMLRPC::FaultException), [ok, fault])
  check(fault.faultCode == 2, fault.faultCode)
  check(fault.faultString == "Object no.such.model doesn't exist", fault.faultString)
  [fault.faultCode, fault.faultString]
end
