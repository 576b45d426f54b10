def test_sharded_equals_unsharded(multi_device):
    res = multi_device.call("serving_dp/_serving_dp_sharding.py:sharded_matches_single_device")
    assert res == {"devices": 8, "same": True}
