// Client matrix: Go's github.com/kolo/xmlrpc (Debian golang-github-kolo-xmlrpc-dev), called the
// way skilld-labs/go-odoo calls it: authenticate(db, login, password, "") with an empty string
// as the 4th argument, execute_kw with a nil options map as the 7th.
//
// Built by the test in GOPATH mode (GO111MODULE=off, GOPATH=/usr/share/gocode:...), offline.
// Environment: MATRIX_URL, MATRIX_DB, MATRIX_LOGIN, MATRIX_PASSWORD (an API key),
// MATRIX_CLIENT_VERSION (the Debian package's version, read by the test).
// Output: one JSON line {"client", "version"}, then one {"step", "ok", "detail"} per step.
package main

import (
	"encoding/json"
	"fmt"
	"net/rpc"
	"os"
	"reflect"

	"github.com/kolo/xmlrpc"
)

var (
	url      = os.Getenv("MATRIX_URL")
	db       = os.Getenv("MATRIX_DB")
	login    = os.Getenv("MATRIX_LOGIN")
	password = os.Getenv("MATRIX_PASSWORD")
	name     = "Zo\u00eb M\u00fcller"
)

func emit(v map[string]interface{}) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func step(name string, fn func() (interface{}, error)) {
	detail, err := fn()
	if err != nil {
		emit(map[string]interface{}{"step": name, "ok": false, "detail": truncate(err.Error(), 500)})
		return
	}
	emit(map[string]interface{}{"step": name, "ok": true, "detail": truncate(fmt.Sprint(detail), 300)})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func check(cond bool, what interface{}) error {
	if !cond {
		return fmt.Errorf("check failed: %v", what)
	}
	return nil
}

// Options is go-odoo's execute_kw options type; a nil *Options is what it sends by default.
type Options map[string]interface{}

func main() {
	emit(map[string]interface{}{"client": "go kolo/xmlrpc", "version": os.Getenv("MATRIX_CLIENT_VERSION")})
	common, err := xmlrpc.NewClient(url+"/xmlrpc/2/common", nil)
	if err != nil {
		panic(err)
	}
	object, err := xmlrpc.NewClient(url+"/xmlrpc/2/object", nil)
	if err != nil {
		panic(err)
	}
	var uid int64
	var id int64
	kw := func(model, method string, args []interface{}, options *Options, out interface{}) error {
		return object.Call("execute_kw", []interface{}{db, uid, password, model, method, args, options}, out)
	}

	step("connect", func() (interface{}, error) {
		var v map[string]interface{}
		if err := common.Call("version", nil, &v); err != nil {
			return nil, err
		}
		return v["server_version"], check(v["server_version"] == "19.0" && v["protocol_version"] == int64(1), v)
	})

	step("login", func() (interface{}, error) {
		if err := common.Call("authenticate", []interface{}{db, login, password, ""}, &uid); err != nil {
			return nil, err
		}
		return uid, check(uid > 0, uid)
	})

	step("read", func() (interface{}, error) {
		var recs []map[string]interface{}
		err := kw("res.partner", "read", []interface{}{[]int64{1}}, &Options{"fields": []string{"name"}}, &recs)
		if err != nil {
			return nil, err
		}
		want := []map[string]interface{}{{"id": int64(1), "name": "YourCompany"}}
		return recs, check(reflect.DeepEqual(recs, want), recs)
	})

	step("search_read", func() (interface{}, error) {
		var recs []map[string]interface{}
		domain := []interface{}{[]interface{}{"is_company", "=", true}}
		args := []interface{}{domain, []string{"name"}, 0, 2, "id"}
		if err := kw("res.partner", "search_read", args, nil, &recs); err != nil {
			return nil, err
		}
		ok := len(recs) == 2 && recs[0]["name"] == "YourCompany" && recs[1]["name"] == "Wood Corner"
		return recs, check(ok, recs)
	})

	step("create", func() (interface{}, error) {
		vals := map[string]interface{}{"name": name, "email": "zoe@example.com"}
		if err := kw("res.partner", "create", []interface{}{vals}, nil, &id); err != nil {
			return nil, err
		}
		var back []map[string]interface{}
		if err := kw("res.partner", "read", []interface{}{[]int64{id}, []string{"name"}}, nil, &back); err != nil {
			return nil, err
		}
		return id, check(id > 0 && len(back) == 1 && back[0]["name"] == name, back)
	})

	step("write", func() (interface{}, error) {
		var ok bool
		args := []interface{}{[]int64{id}, map[string]interface{}{"name": name + " (updated)"}}
		if err := kw("res.partner", "write", args, nil, &ok); err != nil {
			return nil, err
		}
		var back []map[string]interface{}
		if err := kw("res.partner", "read", []interface{}{[]int64{id}}, &Options{"fields": []string{"name"}}, &back); err != nil {
			return nil, err
		}
		return ok, check(ok && len(back) == 1 && back[0]["name"] == name+" (updated)", back)
	})

	step("unlink", func() (interface{}, error) {
		var ok bool
		if err := kw("res.partner", "unlink", []interface{}{[]int64{id}}, nil, &ok); err != nil {
			return nil, err
		}
		var left []int64
		domain := []interface{}{[]interface{}{"id", "=", id}}
		if err := kw("res.partner", "search", []interface{}{domain}, nil, &left); err != nil {
			return nil, err
		}
		return ok, check(ok && len(left) == 0, left)
	})

	step("fault", func() (interface{}, error) {
		var out bool
		err := kw("no.such.model", "read", []interface{}{[]int64{1}}, nil, &out)
		// kolo exposes a fault as rpc.ServerError "Fault(<code>): <string>".
		want := rpc.ServerError("Fault(2): Object no.such.model doesn't exist")
		if err == nil {
			return nil, fmt.Errorf("no fault")
		}
		return err.Error(), check(err == want, fmt.Sprintf("%T %v", err, err))
	})
}
