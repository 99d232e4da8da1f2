from test_run_grid import *  # noqa

def test_dbg(demo):
    grid = demo.grid
    grid.diff.setVisible(True)
    got = []
    grid.diff.closed.connect(lambda: got.append(1))
    grid.diff.close_button.click()
    print("GOT", got, grid.diff.isVisible(), grid.diff.close_button.isVisible(), grid.diff.close_button.geometry())
