package mapping

import (
	"reflect"
	"testing"
)

// The one-Decode path gives what the value-by-value path gives, or steps aside for it.
func TestFastJSONRecordAgreesWithGeneralPath(t *testing.T) {
	for _, in := range []string{
		`{"a":1,"b":"x","c":{"d":[1,{"e":"}"}]},"f":null,"g":true}`,
		` {"email":"a@b.co", "meta": {"k": "v\"}"}, "n": 12345678901234567890}`,
		`{}`,
		`{"a":1,"a":2}`,
		`{"a\u0062":1}`,
		`{"a":1} {"b":2}`,
		`[1,2]`,
		`{"a":1`,
		`{"a":"\xff"}`,
		"{\"\xffk\":1}",
	} {
		fast, ok := fastJSONRecord([]byte(in))
		general, gerr := jsonRecordGeneral([]byte(in))
		if !ok {
			continue
		}
		if gerr != nil {
			t.Errorf("%s: fast path took a record the general path refuses (%v)", in, gerr)
			continue
		}
		g := general.(*jsonRecord)
		if !reflect.DeepEqual(fast.keys, g.keys) || !reflect.DeepEqual(fast.values, g.values) {
			t.Errorf("%s: fast %v %v, general %v %v", in, fast.keys, fast.values, g.keys, g.values)
		}
	}
	for _, in := range []string{`{"a":1,"a":2}`, `{"a\u0062":1}`, `{"a":1} {"b":2}`, `[1]`, `{"a":1`} {
		if _, ok := fastJSONRecord([]byte(in)); ok {
			t.Errorf("%s: the fast path must step aside", in)
		}
	}
}
