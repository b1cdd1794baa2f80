<?php
// Client matrix: PHP's xmlrpc extension (Debian php-xmlrpc), the encoder ripcord wraps
// (the Odoo documentation's PHP examples). Calls are encoded with xmlrpc_encode_request and
// posted with PHP's own HTTP stream wrapper, as ripcord does without curl.
//
// What PHP sends that other clients do not: an ISO-8859-1 declared body (the extension's
// default), non-ASCII characters as numeric character references (`&#235;`, default escaping)
// or as raw ISO-8859-1 bytes (escaping `markup` only), and an empty PHP array `[]` encoded as an
// empty <array> where Odoo expects a struct (authenticate's user_agent_env, execute_kw's kwargs).
// connect and login use ripcord's own options (UTF-8), read and search_read the extension's
// defaults, create raw ISO-8859-1, write character references.
//
// Environment: MATRIX_URL, MATRIX_DB, MATRIX_LOGIN, MATRIX_PASSWORD (an API key).
// Output: one JSON line {"client", "version"}, then one {"step", "ok", "detail"} per step.

$URL = getenv('MATRIX_URL');
$DB = getenv('MATRIX_DB');
$LOGIN = getenv('MATRIX_LOGIN');
$PASSWORD = getenv('MATRIX_PASSWORD');
$NAME = "Zo\u{EB} M\u{FC}ller"; // UTF-8, as PHP source text is
$NAME_LATIN1 = iconv('UTF-8', 'ISO-8859-1', $NAME);

// The extension's defaults: encoding iso-8859-1, escaping markup + non-ascii + non-print.
const CHAR_REFS = [];
// Raw ISO-8859-1 bytes in an ISO-8859-1 declared body.
const LATIN1 = ['encoding' => 'ISO-8859-1', 'escaping' => ['markup']];
// Ripcord's own output options (its Ripcord_Client defaults): UTF-8, markup escaped only.
const RIPCORD = ['output_type' => 'xml', 'verbosity' => 'pretty', 'escaping' => ['markup'], 'version' => 'xmlrpc', 'encoding' => 'utf-8'];

function emit($obj)
{
    echo json_encode($obj, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n";
}

class Fault extends Exception
{
    public $faultCode;
    public function __construct($code, $string)
    {
        parent::__construct($string);
        $this->faultCode = $code;
    }
}

/** One call; a fault is thrown as Fault, anything else unexpected as Exception. */
function call($path, $method, $params, $options = CHAR_REFS, &$body = null)
{
    global $URL;
    $body = xmlrpc_encode_request($method, $params, $options);
    $ctx = stream_context_create(['http' => [
        'method' => 'POST',
        'header' => "Content-Type: text/xml\r\n",
        'content' => $body,
        'ignore_errors' => true,
        'timeout' => 30,
    ]]);
    $resp = @file_get_contents("$URL$path", false, $ctx);
    if ($resp === false) {
        throw new Exception("no answer from $URL$path");
    }
    $status = $http_response_header[0] ?? '';
    if (strpos($status, ' 200 ') === false) {
        throw new Exception("HTTP status: $status");
    }
    $value = xmlrpc_decode($resp, 'UTF-8');
    if (is_array($value) && xmlrpc_is_fault($value)) {
        throw new Fault($value['faultCode'], $value['faultString']);
    }
    return $value;
}

function check($cond, $what)
{
    if (!$cond) {
        throw new Exception('check failed: ' . (is_string($what) ? $what : json_encode($what)));
    }
}

function step($name, $fn)
{
    try {
        $detail = $fn();
        emit(['step' => $name, 'ok' => true, 'detail' => substr(json_encode($detail, JSON_UNESCAPED_UNICODE), 0, 300)]);
    } catch (Throwable $e) {
        emit(['step' => $name, 'ok' => false, 'detail' => substr(get_class($e) . ': ' . $e->getMessage(), 0, 500)]);
    }
}

emit(['client' => 'php xmlrpc', 'version' => phpversion('xmlrpc') . ' (PHP ' . PHP_VERSION . ')']);
$uid = 0;
$id = 0;

function object_call($model, $method, $args, $kwargs = null, $options = CHAR_REFS, &$body = null)
{
    global $DB, $uid, $PASSWORD;
    $params = [$DB, $uid, $PASSWORD, $model, $method, $args];
    if ($kwargs !== null) {
        $params[] = $kwargs;
    }
    return call('/xmlrpc/2/object', 'execute_kw', $params, $options, $body);
}

step('connect', function () {
    $v = call('/xmlrpc/2/common', 'version', [], RIPCORD);
    check($v['server_version'] === '19.0' && $v['protocol_version'] === 1, $v);
    return $v['server_version'];
});

step('login', function () {
    global $DB, $LOGIN, $PASSWORD, $uid;
    // ripcord's documented call: authenticate($db, $username, $password, array())
    $uid = call('/xmlrpc/2/common', 'authenticate', [$DB, $LOGIN, $PASSWORD, []], RIPCORD);
    check(is_int($uid) && $uid > 0, var_export($uid, true));
    return $uid;
});

step('read', function () {
    $recs = object_call('res.partner', 'read', [[1]], ['fields' => ['name']]);
    check($recs === [['id' => 1, 'name' => 'YourCompany']], $recs);
    return $recs;
});

step('search_read', function () {
    // Positional domain, fields, offset, limit, order; kwargs an empty PHP array.
    $recs = object_call('res.partner', 'search_read', [[['is_company', '=', true]], ['name'], 0, 2, 'id'], []);
    check(array_column($recs, 'name') === ['YourCompany', 'Wood Corner'], $recs);
    return $recs;
});

step('create', function () {
    global $NAME, $NAME_LATIN1, $id;
    // Raw ISO-8859-1 bytes in the body, and kwargs an empty array.
    $id = object_call('res.partner', 'create', [['name' => $NAME_LATIN1]], [], LATIN1, $body);
    check(strpos($body, 'encoding="ISO-8859-1"') !== false && strpos($body, "Zo\xEB") !== false, 'body is not ISO-8859-1');
    check(is_int($id), var_export($id, true));
    $back = object_call('res.partner', 'read', [[$id], ['name']]);
    check($back[0]['name'] === $NAME, $back);
    return $id;
});

step('write', function () {
    global $NAME, $NAME_LATIN1, $id;
    // The default escaping: numeric character references (&#235;) in an iso-8859-1 body.
    $ok = object_call('res.partner', 'write', [[$id], ['name' => "$NAME_LATIN1 (updated)"]], null, CHAR_REFS, $body);
    check(strpos($body, 'Zo&#235; M&#252;ller') !== false, 'no character references in the body');
    check($ok === true, var_export($ok, true));
    $back = object_call('res.partner', 'read', [[$id]], ['fields' => ['name']]);
    check($back[0]['name'] === "$NAME (updated)", $back);
    return $ok;
});

step('unlink', function () {
    global $id;
    $ok = object_call('res.partner', 'unlink', [[$id]], []);
    check($ok === true, var_export($ok, true));
    $left = object_call('res.partner', 'search', [[['id', '=', $id]]]);
    check($left === [], $left);
    return $ok;
});

step('fault', function () {
    try {
        object_call('no.such.model', 'read', [[1]]);
    } catch (Fault $f) {
        check($f->faultCode === 2, var_export($f->faultCode, true));
        check($f->getMessage() === "Object no.such.model doesn't exist", $f->getMessage());
        return [$f->faultCode, $f->getMessage()];
    }
    throw new Exception('no fault');
});
