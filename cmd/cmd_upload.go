package cmd

import (
	"context"

	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/spf13/cobra"
)

type uploadOptions struct {
	MessageID         string
	Image, File, Name string
	Size              int64 // --size: the size the message announced (0: not given)
}

// uploadedLine is printed by upload.
type uploadedLine struct {
	Type      string `json:"type"` // "uploaded"
	MessageID string `json:"messageId"`
	Object    string `json:"object"`
	FileName  string `json:"fileName"`
	FileSize  int64  `json:"fileSize"`
}

func newCmdUpload(f *factory) *cobra.Command {
	opts := &uploadOptions{}
	cmd := &cobra.Command{
		Use:   "upload --message-id ID (--image FILE | --file FILE)",
		Short: "Upload the image or file of a delivered message whose upload failed (exit 7)",
		Long: `Upload an image or file to a plain media message that LINE already delivered but whose
object did not arrive: 'linectl send --image/--file' exits 7 (kind upload_failed) with the
message's id in its failed line when every upload attempt failed. The chat shows a
placeholder until the object is there. This sends no message: it stores the object under
the message (POST /r/talk/m/<messageId> on LINE's object storage), which may be done again.

Give the same file (and --name) as the send, and --size with the fileSize of send's
"pending" line (printed before every plain upload, so also when linectl was killed during
it): the message announced that size (FILE_SIZE), and a file of another size is refused
(exit 2) before anything is uploaded. At Ctrl-C or SIGTERM the upload in flight goes on
(within --timeout: the message is already delivered) and is reported; then exit 130. Only
plain messages take an upload after the send; a
Letter-Sealed one is uploaded before it is sent, so it never exits 7. Prints

  {"type":"uploaded","messageId":…,"object":…,"fileName":…,"fileSize":N}`,
		Example: `  linectl send --to c0123456789abcdef0123456789abcdef --image load.png > out.json
  [ $? -eq 7 ] && linectl upload --message-id "$(jq -r .messageId out.json)" --image load.png
  jq -r 'select(.type=="pending") | "\(.messageId) \(.fileSize)"' out.json | while read -r id size; do
    linectl upload --message-id "$id" --size "$size" --image load.png; done`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := positiveDecimal(opts.MessageID); err != nil {
				return usageErrorf("--message-id: %v", err)
			}
			so := &sendOptions{Image: opts.Image, File: opts.File, Name: opts.Name}
			if opts.Image == "" && opts.File == "" {
				return usageErrorf("give --image FILE or --file FILE")
			}
			if opts.Size < 0 {
				return usageErrorf("--size %d: must be the positive size of the pending line", opts.Size)
			}
			if _, err := parseMediaArgs(f, so, nil, false); err != nil {
				return err
			}
			if n := so.Media.Source.Size; opts.Size > 0 && n != opts.Size {
				return usageErrorf("the file is %d bytes but the message announced %d (--size): give the file that was sent; nothing was uploaded", n, opts.Size)
			}
			return runUpload(cmd.Context(), f, opts, so)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.MessageID, "message-id", "", "the delivered message (the messageId of send's failed line)")
	fl.StringVar(&opts.Image, "image", "", "the PNG, JPEG or GIF image (\"-\": stdin, with --name)")
	fl.StringVar(&opts.File, "file", "", "the file (\"-\": stdin, with --name)")
	fl.StringVar(&opts.Name, "name", "", "the name the send gave (default: the file's base name)")
	fl.Int64Var(&opts.Size, "size", 0, "the size the message announced (fileSize of send's pending line); a file of another size is refused")
	return cmd
}

func runUpload(ctx context.Context, f *factory, opts *uploadOptions, so *sendOptions) error {
	cl, err := f.Client(true)
	if err != nil {
		return err
	}
	md := so.Media
	md.Source = progressSource(f, md.Name, md.Source)
	// The message is already delivered: at a signal the upload that
	// completes it goes on, within --timeout (as send's plain upload does).
	uctx, cancel := afterSignal(ctx, f.Timeout)
	defer cancel()
	defer context.AfterFunc(ctx, func() {
		f.progress("linectl: stopping: finishing the upload in flight (at most %s), so the message is not left a placeholder", f.Timeout)
	})()
	path, err := delivery.UploadPlain(uctx, newOBS(f, cl), opts.MessageID, md)
	if err != nil {
		return err
	}
	if err := f.Out().line(uploadedLine{Type: "uploaded", MessageID: opts.MessageID, Object: path, FileName: md.Name, FileSize: md.Source.Size}); err != nil {
		return err
	}
	return ctx.Err() // a signal came: the upload finished first (exit 130, its line printed)
}
