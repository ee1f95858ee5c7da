package simgw

import (
	"reflect"
	"testing"
)

// A persistent fault hits every call until cleared; a counted one is used
// up; the list shows what is left.
func TestArmListClearFaults(t *testing.T) {
	s := NewSandbox(Options{})
	if err := s.Arm(ArmedFault{Kind: "429", Method: "sendMessage", Persist: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Arm(ArmedFault{Kind: "not-json", Method: "getProfile", Count: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.Arm(ArmedFault{Kind: "bogus", Method: "getProfile", Count: 1}); err != errUnknownFault {
		t.Fatalf("bogus kind: %v", err)
	}
	s.mu.Lock()
	for i := 0; i < 5; i++ {
		if f := s.faults.take("sendMessage"); f.kind != Fault429 {
			t.Fatalf("call %d: %v", i, f.kind)
		}
	}
	s.faults.take("getProfile")
	s.mu.Unlock()
	want := []ArmedFault{{Kind: "not-json", Method: "getProfile", Count: 1}, {Kind: "429", Method: "sendMessage", Persist: true}}
	if got := s.ArmedFaults(); !reflect.DeepEqual(got, want) {
		t.Fatalf("armed %+v, want %+v", got, want)
	}
	s.StrictRefreshRotation(true)
	s.ClearFaults()
	if got := s.ArmedFaults(); len(got) != 0 {
		t.Fatalf("after clear: %+v", got)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.faults.take("sendMessage"); f.kind != FaultNone {
		t.Fatalf("after clear: %v", f.kind)
	}
	if s.faults.delays[strictRotationKey] == 0 {
		t.Fatal("clear turned off strict refresh rotation, which is not a fault")
	}
}
