def test_create_and_read(api):
    agent = api("agent")
    case = agent.create_case()
    assert case["number"].startswith("KS-")
    resp = agent.get(f"/api/v1/case/{case['id']}")
    assert resp.status_code == 200, resp.get_json()
    print(resp.get_json())
