"""Report: the JSON report, the view model, HTML and PDF rendering, and the PDF helper process."""
