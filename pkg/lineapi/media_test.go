package lineapi

import "testing"

// A content type flowMap does not list is plain, as in the extension's
// checkAndGetMediaMessageFlow (flowMap[t] ?? V1) — issue 24.4.
func TestMediaFlowUnlistedIsPlain(t *testing.T) {
	f := &MediaFlow{FlowMap: map[string]int{"1": FlowSealed, "14": FlowPlain}}
	for ct, want := range map[int]int{ContentImage: FlowSealed, ContentFile: FlowPlain, 2: FlowPlain} {
		if got := f.Flow(ct); got != want {
			t.Errorf("Flow(%d) = %d, want %d", ct, got, want)
		}
	}
	if got := (&MediaFlow{}).Flow(ContentImage); got != FlowPlain {
		t.Errorf("empty flowMap: %d, want plain", got)
	}
}
